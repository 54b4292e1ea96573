from io import StringIO

import pytest
from django.core.management import call_command
from django.template import Context, Template

from accounts.demo import DEMO_USERS
from accounts.enums import RoleName
from accounts.models import User

pytestmark = pytest.mark.django_db


def _seed(restaurants: int = 12) -> str:
    out = StringIO()
    call_command("seed_demo", restaurants=restaurants, stdout=out)
    return out.getvalue()


def test_seed_demo_prints_one_login_per_role():
    output = _seed()

    for demo in DEMO_USERS:
        assert f"  {demo.username.ljust(17)}  {demo.password.ljust(24)}" in output
    assert {demo.role for demo in DEMO_USERS} == set(RoleName)


def test_seed_demo_twice_adds_nothing_twice():
    _seed()
    second = _seed()

    assert User.objects.filter(username__in=[d.username for d in DEMO_USERS]).count() == len(
        DEMO_USERS
    )
    assert (
        "(0 user(s), 0 restaurant(s), 0 contract(s), 0 social account(s) and 0 monthly report(s) created now)"
        in second
    )


@pytest.mark.parametrize("demo", DEMO_USERS, ids=lambda demo: demo.username)
def test_each_seeded_login_reaches_its_own_dashboard(client, demo):
    _seed()

    response = client.post(
        "/accounts/login/", {"username": demo.username, "password": demo.password}
    )
    dashboard = client.get("/")

    assert response.status_code == 302
    assert dashboard.status_code == 200
    assert [str(role) for role in dashboard.context["roles"]] == [str(demo.role)]


def test_template_perms_see_implied_permissions(make_user):
    user = make_user(roles=[RoleName.DIRECTION])
    template = Template(
        "{% if perms.accounts.add_user %}add{% endif %}/{% if perms.accounts.manage_admins %}admins{% endif %}"
    )
    from django.contrib.auth.context_processors import PermWrapper

    assert template.render(Context({"perms": PermWrapper(user)})) == "add/"


def test_users_visible_to_a_field_role_are_themselves_only(sales_agent, client_manager, direction):
    assert list(User.objects.visible_to(sales_agent)) == [sales_agent]
    assert User.objects.visible_to(direction).count() == User.objects.count()


def test_seed_demo_builds_a_realistic_crm():
    from crm.models import Activity, Contact, Restaurant

    _seed(restaurants=60)

    assert Restaurant.objects.count() == 60
    assert Restaurant.objects.filter(status__in=["client", "former"]).count() == 45
    assert Restaurant.objects.filter(
        status="prospect", sales_agent__username="sales_agent"
    ).exists()
    owners_of_several = [c for c in Contact.objects.all() if c.links.count() > 1]
    assert owners_of_several
    assert Activity.objects.count() >= 60
    assert Restaurant.objects.filter(client_code="C00001").count() == 1


def test_seed_demo_builds_sales_data():
    from sales.models import Contract, Invoice, Opportunity, Visit

    _seed(restaurants=60)

    statuses = set(Contract.objects.values_list("status", flat=True))
    assert statuses == {"active", "suspended", "ended"}
    assert Invoice.objects.exists()
    assert Visit.objects.filter(status="done").exclude(answers=[]).exists()
    assert Visit.objects.filter(status="planned").exists()
    assert set(Opportunity.objects.values_list("stage", flat=True)) == {
        "new",
        "meeting",
        "proposal",
        "negotiation",
        "won",
        "lost",
    }


def test_demo_restaurant_names_agree_with_their_nouns():
    from crm.demo import restaurant_name

    assert restaurant_name("{le}", ("Fourchette", "f"), "Léa") == "La Fourchette"
    assert restaurant_name("{le}", ("Olivier", "m"), "Léa") == "L'Olivier"
    assert restaurant_name("{au}", ("Halle", "f"), "Léa") == "À la Halle"
    assert restaurant_name("Café {du}", ("Olivier", "m"), "Léa") == "Café de l'Olivier"
    assert restaurant_name("{le} Petit", ("Gare", "f"), "Léa") == "La Petite Gare"
    assert restaurant_name("Chez {first}", ("Gare", "f"), "Léa") == "Chez Léa"
