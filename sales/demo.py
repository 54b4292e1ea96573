"""Demo sales data: packs, contracts in every state, a year of invoices, a month of visits with
answers for the demo agent, opportunities in every stage. Deterministic and idempotent."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from sales import services
from sales.enums import Stage, VisitKind, VisitStatus
from sales.models import (
    LostReason,
    Opportunity,
    Pack,
    SalesTarget,
    Visit,
    VisitFormNode,
    add_months,
)

PACKS = [
    ("essentiel", "Essentiel", "Essential", Decimal("149.00"), ["facebook", "instagram"], 8, False),
    (
        "premium",
        "Premium",
        "Premium",
        Decimal("249.00"),
        ["facebook", "instagram", "google"],
        16,
        True,
    ),
    ("avis", "Avis", "Reviews", Decimal("99.00"), ["google", "tripadvisor"], 0, True),
]
LOST_REASONS = ["Prix trop élevé", "Déjà équipé", "Pas le bon moment", "Pas de réponse"]


def seed() -> int:
    """Create the demo sales data once; returns the number of contracts created now."""
    if Pack.objects.filter(code="essentiel").exists():
        return 0
    rng = random.Random(2027)
    admin = User.objects.filter(username="admin").first()
    agent = User.objects.filter(username="sales_agent").first()
    if admin is None:
        return 0
    packs = []
    for order, (code, name_fr, name_en, price, networks, posts, reviews) in enumerate(PACKS):
        packs.append(
            Pack.objects.create(
                code=code, name=name_fr, name_fr=name_fr, name_en=name_en, monthly_price=price, networks=networks,
                posts_per_month=posts, review_management=reviews, monthly_report=True, order=order,
            )
        )  # fmt: skip
    for order, name in enumerate(LOST_REASONS):
        LostReason.objects.get_or_create(name=name, defaults={"order": order})

    today = timezone.localdate()
    first_of_month = today.replace(day=1)
    clients = list(Restaurant.objects.filter(status=RestaurantStatus.CLIENT).order_by("pk"))
    created = 0
    for index, restaurant in enumerate(clients):
        pack = packs[index % len(packs)]
        start = add_months(first_of_month, -rng.randint(1, 14))
        contract = services.contract_sign(
            restaurant=restaurant,
            by=agent if agent is not None and restaurant.sales_agent_id == agent.pk else admin,
            pack=pack,
            start_date=start,
            duration_months=13 if index % 3 else 26,
        )
        created += 1
        if index % 11 == 0:
            services.contract_suspend(
                contract=contract, by=admin, start_date=add_months(start, 1), reason="Travaux"
            )
        elif index % 13 == 0:
            services.contract_end(
                contract=contract,
                by=admin,
                ended_at=min(today, contract.end_date),
                reason="Fermeture du restaurant",
            )
        elif index % 7 == 0 and add_months(start, 2) <= contract.end_date:
            premium = packs[1]
            services.contract_upgrade(
                contract=contract, by=admin, starts_on=add_months(start, 2), pack=premium,
                monthly_price=premium.monthly_price, posts_per_month=premium.posts_per_month, networks=premium.networks,
            )  # fmt: skip
    for offset in range(-12, 1):
        services.invoices_bill_month(month=add_months(first_of_month, offset))

    if agent is not None:
        _seed_agent(rng, agent, packs, today)
    return created


def _seed_agent(rng: random.Random, agent: User, packs: list[Pack], today: date) -> None:
    restaurants = list(Restaurant.objects.filter(sales_agent=agent).order_by("pk")[:60])
    options = list(
        VisitFormNode.objects.filter(kind="option", parent__parent__isnull=True, active=True)
    )
    by_group: dict[int, list[VisitFormNode]] = {}
    for option in options:
        by_group.setdefault(option.parent_id, []).append(option)
    tz = timezone.get_current_timezone()
    visits = []
    for day_offset in range(-30, 15):
        day = today + timedelta(days=day_offset)
        if day.weekday() >= 5:
            continue
        for slot, hour in enumerate((9, 11, 14, 16)):
            if rng.random() < 0.35:
                continue
            restaurant = rng.choice(restaurants)
            start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=tz)
            done = day_offset < 0
            answers = []
            if done:
                for group_options in by_group.values():
                    option = rng.choice(group_options)
                    answers.append(
                        {"node": option.pk, "group": option.parent.label, "option": option.label}
                    )
            visits.append(
                Visit(
                    restaurant=restaurant, agent=agent, start=start, end=start + timedelta(hours=1),
                    kind=VisitKind.VISIT if slot % 3 else VisitKind.PHONE,
                    status=VisitStatus.DONE if done else VisitStatus.PLANNED,
                    report="Échange avec le gérant." if done else "", answers=answers,
                    pack_offered=packs[slot % len(packs)] if done and slot % 2 == 0 else None,
                    while_prospect=restaurant.status == RestaurantStatus.PROSPECT,
                )
            )  # fmt: skip
    Visit.objects.bulk_create(visits)
    for visit in visits:
        if visit.status == VisitStatus.DONE:
            Restaurant.objects.filter(pk=visit.restaurant_id, last_visit_at__lt=visit.start).update(
                last_visit_at=visit.start
            )
            Restaurant.objects.filter(pk=visit.restaurant_id, last_visit_at__isnull=True).update(
                last_visit_at=visit.start
            )
    stages = [Stage.NEW, Stage.MEETING, Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON, Stage.LOST]
    lost = LostReason.objects.first()
    for index, restaurant in enumerate(restaurants[:18]):
        pack = packs[index % len(packs)]
        opportunity = Opportunity.objects.create(
            restaurant=restaurant, owner=agent, pack=pack, monthly_amount=pack.monthly_price,
            expected_close=today + timedelta(days=rng.randint(5, 60)),
            stage_changed_at=timezone.now() - timedelta(days=rng.randint(1, 40)),
        )  # fmt: skip
        target = stages[index % len(stages)]
        if target != Stage.NEW:
            services.opportunity_move(
                opportunity=opportunity, by=agent, stage=target, lost_reason=lost
            )
    for offset in range(-2, 2):
        SalesTarget.objects.get_or_create(
            agent=agent, month=add_months(today.replace(day=1), offset),
            defaults={"new_monthly_revenue": Decimal("1500.00"), "new_clients": 6},
        )  # fmt: skip
