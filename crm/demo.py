"""Demo CRM data for the embedded mode: zones, segments, a few hundred French restaurants,
owners of several restaurants, contacts and timelines. Deterministic and idempotent."""

import random
from datetime import timedelta

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from crm.enums import ActivityKind, ContactRole, RestaurantStatus
from crm.models import (
    Activity,
    AssetType,
    Contact,
    ContactLink,
    ContactType,
    CrmSettings,
    CustomField,
    Restaurant,
    Segment,
    Zone,
)
from crm.text import normalize_search

ZONES = {
    "Lyon": (
        "69, 01, 38",
        [
            ("69001", "Lyon"),
            ("69002", "Lyon"),
            ("69003", "Lyon"),
            ("69100", "Villeurbanne"),
            ("69300", "Caluire-et-Cuire"),
            ("38000", "Grenoble"),
        ],
    ),
    "Paris": (
        "75, 92, 93, 94",
        [
            ("75001", "Paris"),
            ("75011", "Paris"),
            ("75017", "Paris"),
            ("92100", "Boulogne-Billancourt"),
            ("93100", "Montreuil"),
        ],
    ),
    "Marseille": (
        "13, 83",
        [
            ("13001", "Marseille"),
            ("13008", "Marseille"),
            ("13100", "Aix-en-Provence"),
            ("83000", "Toulon"),
        ],
    ),
    "Bordeaux": ("33, 40", [("33000", "Bordeaux"), ("33200", "Bordeaux"), ("33700", "Mérignac")]),
    "Lille": ("59, 62", [("59000", "Lille"), ("59100", "Roubaix"), ("62000", "Arras")]),
}
SEGMENTS = [
    ("traditionnel", "Traditionnel"),
    ("brasserie", "Brasserie"),
    ("pizzeria", "Pizzeria"),
    ("rapide", "Restauration rapide"),
    ("gastronomique", "Gastronomique"),
    ("cafe-bar", "Café-bar"),
]
# Restaurant names: a pattern and a noun, the article agreeing with the noun's gender and
# elided before a vowel ("L'Olivier", "Au Marché", "À la Gare", "Bistrot de l'Olivier").
PREFIXES = [
    "{le}",
    "{le}",
    "Chez {first}",
    "{au}",
    "{le} Petit",
    "Bistrot {du}",
    "Brasserie {du}",
    "Café {du}",
    "Auberge {du}",
    "{le}",
    "La Table {du}",
]
WORDS = [
    ("Gare", "f"),
    ("Marché", "m"),
    ("Bouchon", "m"),
    ("Comptoir", "m"),
    ("Fourchette", "f"),
    ("Jardin", "m"),
    ("Moulin", "m"),
    ("Pêcheur", "m"),
    ("Vigneron", "m"),
    ("Théâtre", "m"),
    ("Canut", "m"),
    ("Soleil", "m"),
    ("Olivier", "m"),
    ("Port", "m"),
    ("Halle", "f"),
    ("Lanterne", "f"),
    ("Tilleul", "m"),
    ("Four", "m"),
    ("Cèdre", "m"),
    ("Passage", "m"),
]
ARTICLES = {
    "m": {"le": "Le", "au": "Au", "du": "du"},
    "f": {"le": "La", "au": "À la", "du": "de la"},
    "vowel": {"le": "L'", "au": "À l'", "du": "de l'"},
}


def restaurant_name(prefix: str, word: tuple[str, str], first_name: str) -> str:
    """A plausible French restaurant name from one of PREFIXES and one of WORDS."""
    noun, gender = word
    if prefix.startswith("Chez"):
        return f"Chez {first_name}"
    petit = "{le} Petit" in prefix
    if petit and gender == "f":
        prefix = "{le} Petite"
    starts_with_vowel = noun[0] in "AEIOUYÉÈÊ" and not petit
    articles = ARTICLES["vowel" if starts_with_vowel else gender]
    if petit:
        articles = ARTICLES[gender]
    name = prefix.format(**articles)
    separator = "" if name.endswith("'") else " "
    return f"{name}{separator}{noun}"


FIRST_NAMES = [
    "Marie",
    "Jean",
    "Camille",
    "Nicolas",
    "Sophie",
    "Julien",
    "Claire",
    "Thomas",
    "Léa",
    "Antoine",
    "Inès",
    "Hugo",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "Roux",
]
STREETS = [
    "rue de la République",
    "place Bellecour",
    "quai Saint-Antoine",
    "rue Mercière",
    "avenue Jean-Jaurès",
    "cours Lafayette",
    "rue Victor-Hugo",
]
EXCHANGES = [
    (ActivityKind.CALL, "Appel au gérant", "Intéressé par la gestion des avis Google."),
    (ActivityKind.EMAIL, "Envoi de la plaquette", ""),
    (ActivityKind.MEETING, "Rendez-vous au restaurant", "Présentation du pack Essentiel."),
    (ActivityKind.NOTE, "Fermeture annuelle en août", ""),
    (ActivityKind.CALL, "Relance proposition", "Rappeler après le service du midi."),
]


AREA_CODES = {
    "75": "1",
    "92": "1",
    "93": "1",
    "94": "1",
    "33": "5",
    "40": "5",
    "59": "3",
    "62": "3",
}


def _phone(rng: random.Random, postal_code: str) -> str:
    """A landline of the restaurant's region (01 Paris, 03 north, 04 south-east, 05 south-west)."""
    return f"+33{AREA_CODES.get(postal_code[:2], '4')}{rng.randint(10_000_000, 99_999_999)}"


def seed(*, restaurants: int = 300) -> int:
    """Create the demo CRM once; returns how many restaurants were created now."""
    if Restaurant.objects.filter(client_code="C00001").exists():
        return 0
    rng = random.Random(2026)
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["sales_agent", "community_manager", "review_manager", "admin"]
        )
    }
    agent = users.get("sales_agent")
    zones = {}
    for name, (departments, _cities) in ZONES.items():
        zones[name], _ = Zone.objects.get_or_create(
            name=name, defaults={"departments": departments}
        )
    if agent:
        zones["Lyon"].agents.add(agent)
    segments = [
        Segment.objects.get_or_create(code=code, defaults={"name": label, "order": i})[0]
        for i, (code, label) in enumerate(SEGMENTS)
    ]
    for i, name in enumerate(["Écrans", "Tablettes de commande", "Chevalets QR code"]):
        AssetType.objects.get_or_create(name=name, defaults={"order": i})
    CustomField.objects.get_or_create(
        key="couverts", defaults={"label": "Nombre de couverts", "kind": "number", "order": 1}
    )
    CustomField.objects.get_or_create(
        key="terrasse",
        defaults={"label": "Terrasse", "kind": "choice", "choices": "Oui\nNon", "order": 2},
    )
    settings = CrmSettings.load()
    if not settings.accountant_email:
        settings.accountant_email = "comptabilite@comadvisor.example"
        settings.save()

    now = timezone.now()
    built: list[Restaurant] = []
    for index in range(restaurants):
        zone_name = "Lyon" if index % 3 == 0 else rng.choice(list(ZONES))
        postal_code, city = rng.choice(ZONES[zone_name][1])
        is_client = index % 4 != 0
        name = restaurant_name(rng.choice(PREFIXES), rng.choice(WORDS), rng.choice(FIRST_NAMES))
        if index % 7 == 0:
            name = f"{name} {city}"
        restaurant = Restaurant(
            name=name,
            status=RestaurantStatus.CLIENT if is_client else RestaurantStatus.PROSPECT,
            client_code=f"C{len([r for r in built if r.client_code]) + 1:05d}"
            if is_client
            else None,
            address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
            postal_code=postal_code,
            city=city,
            department=postal_code[:2],
            phone=_phone(rng, postal_code),
            email=f"contact{index}@restaurant.example",
            segment=rng.choice(segments),
            zone=zones[zone_name],
            sales_agent=agent if zone_name == "Lyon" else None,
            community_manager=users.get("community_manager")
            if is_client and index % 2 == 0
            else None,
            review_manager=users.get("review_manager") if is_client and index % 3 == 0 else None,
            created_by=agent if not is_client and zone_name == "Lyon" else users.get("admin"),
            revisit_date=(now + timedelta(days=rng.randint(-20, 90))).date()
            if rng.random() < 0.6
            else None,
            payment_mode="direct_debit" if is_client else "",
            payment_days=30 if is_client else None,
            custom_data={
                "couverts": str(rng.choice([20, 35, 50, 80, 120])),
                "terrasse": rng.choice(["Oui", "Non"]),
            },
            created_at=now - timedelta(days=rng.randint(30, 900)),
        )
        restaurant.search_name = normalize_search(restaurant.name)
        restaurant.search_city = normalize_search(restaurant.city)
        built.append(restaurant)
    created = bulk_create_with_history(
        built, Restaurant, batch_size=500, default_user=users.get("admin")
    )

    contact_types = {t.name: t for t in ContactType.objects.all()}
    owners: list[Contact] = []
    links: list[ContactLink] = []
    for index, restaurant in enumerate(created):
        # One owner in five owns the next restaurant too.
        if owners and index % 5 == 1:
            owner = owners[-1]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            owner = Contact(
                first_name=first,
                last_name=last,
                email=f"{normalize_search(first)}.{normalize_search(last)}{index}@example.com".replace(
                    " ", ""
                ),
                phone=f"+336{rng.randint(10_000_000, 99_999_999)}",
                job="Gérant",
                contact_type=contact_types.get("Restaurateur"),
            )
            owner.search_name = normalize_search(f"{last} {first}")
            owners.append(owner)
        links.append((restaurant, owner))
    Contact.objects.bulk_create(owners, batch_size=500)
    ContactLink.objects.bulk_create(
        [ContactLink(restaurant=r, contact=c, role=ContactRole.OWNER) for r, c in links],
        batch_size=500,
    )

    activities = []
    for restaurant in created:
        for step in range(rng.randint(1, 6)):
            kind, subject, body = rng.choice(EXCHANGES)
            activities.append(
                Activity(
                    restaurant=restaurant,
                    kind=kind,
                    subject=subject,
                    body=body,
                    occurred_at=now - timedelta(days=rng.randint(1, 400), hours=step),
                    author=agent,
                    while_prospect=restaurant.status == RestaurantStatus.PROSPECT,
                )
            )
    Activity.objects.bulk_create(activities, batch_size=1000)
    return len(created)
