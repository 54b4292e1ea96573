"""Which clients a month's drafts are for (any day of the month served), where they go (the
restaurant's report recipients, its owner contacts by default), and how the nightly end of
contracts keeps the drafts and the dashboards' active contracts in agreement."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm.models import Activity, Contact, ContactLink
from reports import selectors, services
from reports.models import MonthlyReport, ReportRecipients
from sales import services as sales_services
from sales.enums import ContractStatus
from sales.models import Pack, add_months, first_of_month
from tests.factories import RestaurantFactory, UserFactory
from tests.social.conftest import make_bistro


@pytest.fixture
def month():
    return add_months(first_of_month(timezone.localdate()), -1)


@pytest.fixture
def bistro(db, community_manager, review_manager, client_manager):
    restaurant = make_bistro(
        community_manager=community_manager,
        review_manager=review_manager,
        client_manager=client_manager,
    )
    owner = Contact.objects.create(
        last_name="Martin", first_name="Paul", email="paul@bistro.example"
    )
    ContactLink.objects.create(restaurant=restaurant, contact=owner, role="owner")
    return restaurant


@pytest.fixture
def pack(db):
    return Pack.objects.create(
        code="rapport", name="Rapport", monthly_price=200, networks=["facebook"],
        posts_per_month=4, monthly_report=True,
    )  # fmt: skip


def _client(name, community_manager):
    return RestaurantFactory(name=name, client=True, community_manager=community_manager)


# --- Recipients --------------------------------------------------------------------------------


def test_a_new_draft_goes_to_the_owner_contacts_without_a_list_of_the_restaurant(bistro, month):
    [report] = services.month_drafts_create(month=month)

    assert report.recipients == "paul@bistro.example"
    assert not ReportRecipients.objects.exists()


def test_recipients_remembered_in_the_editor_address_the_next_drafts(
    client, bistro, month, community_manager
):
    previous = add_months(month, -1)
    [report] = services.month_drafts_create(month=previous)
    client.force_login(community_manager)
    url = reverse("monthly_detail", args=[report.pk])

    response = client.post(
        url,
        {"comments": "", "recipients": "chef@bistro.example\npaul@bistro.example",
         "remember": "1", "action": "save"},
    )  # fmt: skip
    [later] = services.month_drafts_create(month=month)

    assert response.status_code == 302
    stored = ReportRecipients.objects.get(restaurant=bistro)
    assert stored.addresses == "chef@bistro.example\npaul@bistro.example"
    assert stored.updated_by == community_manager
    assert later.recipients == "chef@bistro.example\npaul@bistro.example"
    entry = Activity.objects.get(restaurant=bistro, origin="monthly_report")
    with translation.override("fr"):
        assert entry.subject == gettext("Monthly report recipients changed")
    assert "chef@bistro.example, paul@bistro.example" in entry.body
    page = client.get(reverse("monthly_detail", args=[later.pk])).content.decode()
    section = page.split('data-testid="restaurant-recipients"', 1)[1].split("</div>", 1)[0]
    assert "chef@bistro.example, paul@bistro.example" in section


def test_recipients_saved_without_remembering_stay_on_their_report(
    client, bistro, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    client.post(
        reverse("monthly_detail", args=[report.pk]),
        {"comments": "", "recipients": "once@bistro.example", "action": "save"},
    )

    report.refresh_from_db()
    assert report.recipients == "once@bistro.example"
    assert not ReportRecipients.objects.exists()


def test_the_editor_offers_to_remember_the_recipients_checked(
    client, bistro, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    page = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()

    checkbox = page.split('data-testid="recipients-remember"', 1)[0].rsplit("<input", 1)[1]
    assert 'name="remember"' in checkbox and "checked" in checkbox
    section = page.split('data-testid="restaurant-recipients">', 1)[1].split("</div>", 1)[0]
    with translation.override("fr"):
        assert section == gettext("This restaurant's next reports go to its owner contacts.")


def test_saving_an_older_draft_unchanged_keeps_the_restaurants_list(
    bistro, month, community_manager
):
    [older] = services.month_drafts_create(month=add_months(month, -1))
    services.restaurant_recipients_set(
        restaurant=bistro, by=community_manager, recipients="new@bistro.example"
    )

    services.report_save(
        report=older, by=community_manager, comments="<p>Vu</p>",
        recipients="paul@bistro.example", remember=True,
    )  # fmt: skip

    assert ReportRecipients.objects.get(restaurant=bistro).addresses == "new@bistro.example"


def test_the_owner_contacts_again_or_no_address_drop_the_restaurants_list(
    bistro, community_manager
):
    services.restaurant_recipients_set(
        restaurant=bistro, by=community_manager, recipients="chef@bistro.example"
    )
    again = services.restaurant_recipients_set(
        restaurant=bistro, by=community_manager, recipients="chef@bistro.example"
    )
    assert again.addresses == "chef@bistro.example"

    kept = services.restaurant_recipients_set(
        restaurant=bistro, by=community_manager, recipients="paul@bistro.example"
    )

    assert kept is None and not ReportRecipients.objects.exists()
    assert services.recipients_for(bistro) == "paul@bistro.example"
    # Set, then back to the owners: two entries; the same list again wrote nothing.
    assert Activity.objects.filter(restaurant=bistro, origin="monthly_report").count() == 2
    services.restaurant_recipients_set(restaurant=bistro, by=community_manager, recipients="")
    assert Activity.objects.filter(restaurant=bistro, origin="monthly_report").count() == 2


def test_another_community_manager_cannot_set_the_recipients(bistro):
    other = UserFactory(username="other_cm", roles=["community_manager"])

    with pytest.raises(PermissionDenied):
        services.restaurant_recipients_set(
            restaurant=bistro, by=other, recipients="spy@example.com"
        )

    assert not ReportRecipients.objects.exists()


def test_a_bad_address_is_refused_and_nothing_is_remembered(bistro, community_manager):
    with pytest.raises(services.ValidationError) as refused:
        services.restaurant_recipients_set(
            restaurant=bistro, by=community_manager, recipients="ok@example.com\nnot-an-address"
        )

    assert "not-an-address" in str(refused.value)
    assert not ReportRecipients.objects.exists()


def test_admins_see_and_edit_the_restaurants_recipients(client, admin_user, bistro, month):
    client.force_login(admin_user)
    add = reverse("admin:reports_reportrecipients_add")

    refused = client.post(add, {"restaurant": bistro.pk, "addresses": "pas une adresse"})
    assert refused.status_code == 200 and not ReportRecipients.objects.exists()
    assert "pas une adresse" in refused.content.decode()

    created = client.post(add, {"restaurant": bistro.pk, "addresses": "gerant@bistro.example"})
    listing = client.get(reverse("admin:reports_reportrecipients_changelist"))

    assert created.status_code == 302
    stored = ReportRecipients.objects.get(restaurant=bistro)
    assert stored.addresses == "gerant@bistro.example" and stored.updated_by == admin_user
    assert "gerant@bistro.example" in listing.content.decode()
    [report] = services.month_drafts_create(month=month)
    assert report.recipients == "gerant@bistro.example"

    client.post(reverse("admin:reports_reportrecipients_delete", args=[bistro.pk]), {"post": "yes"})

    assert not ReportRecipients.objects.exists()
    assert services.recipients_for(bistro) == "paul@bistro.example"


# --- Clients served during the month -----------------------------------------------------------


def test_a_contract_starting_after_the_first_gets_its_first_months_draft(
    month, pack, client_manager, community_manager
):
    restaurant = _client("Ouvert le 10", community_manager)
    sales_services.contract_sign(
        restaurant=restaurant, by=client_manager, pack=pack, start_date=month.replace(day=10)
    )

    created = services.month_drafts_create(month=month)

    assert [report.restaurant for report in created] == [restaurant]


def test_a_contract_ending_before_the_months_end_gets_its_last_months_draft(
    month, pack, client_manager, community_manager
):
    restaurant = _client("Fini le 20", community_manager)
    # One month from the 21st of the month before: its last day is the 20th of this month.
    start = add_months(month, -1).replace(day=21)
    contract = sales_services.contract_sign(
        restaurant=restaurant, by=client_manager, pack=pack, start_date=start, duration_months=1
    )
    assert contract.end_date == month.replace(day=20)

    created = services.month_drafts_create(month=month)

    assert [report.restaurant for report in created] == [restaurant]


def test_a_contract_starting_after_the_first_and_ended_before_the_end_gets_its_draft(
    month, pack, client_manager, community_manager
):
    """Served neither on the 1st nor on the last day: only reading every day finds it."""
    restaurant = _client("Du 5 au 20", community_manager)
    contract = sales_services.contract_sign(
        restaurant=restaurant, by=client_manager, pack=pack, start_date=month.replace(day=5)
    )
    sales_services.contract_end(
        contract=contract, by=client_manager, ended_at=month.replace(day=20), reason="Fermé"
    )

    created = services.month_drafts_create(month=month)

    assert [report.restaurant for report in created] == [restaurant]


def test_a_contract_suspended_on_the_first_and_the_last_day_but_served_between_gets_its_draft(
    month, pack, client_manager, community_manager
):
    restaurant = _client("Suspendu deux fois", community_manager)
    contract = sales_services.contract_sign(
        restaurant=restaurant, by=client_manager, pack=pack, start_date=add_months(month, -3)
    )
    sales_services.contract_suspend(
        contract=contract, by=client_manager, start_date=month - dt.timedelta(days=3),
        reason="Travaux",
    )  # fmt: skip
    sales_services.contract_resume(contract=contract, by=client_manager, end_date=month)
    sales_services.contract_suspend(
        contract=contract, by=client_manager, start_date=month.replace(day=25), reason="Congés"
    )

    created = services.month_drafts_create(month=month)

    assert [report.restaurant for report in created] == [restaurant]


def test_no_draft_for_a_month_the_contract_never_served(
    month, pack, client_manager, community_manager
):
    later = _client("Commence le mois prochain", community_manager)
    sales_services.contract_sign(
        restaurant=later, by=client_manager, pack=pack, start_date=add_months(month, 1)
    )
    without = Pack.objects.create(
        code="sans", name="Sans rapport", monthly_price=100, networks=["facebook"],
        posts_per_month=2, monthly_report=False,
    )  # fmt: skip
    other = _client("Sans le rapport", community_manager)
    sales_services.contract_sign(
        restaurant=other, by=client_manager, pack=without, start_date=add_months(month, -2)
    )

    assert services.month_drafts_create(month=month) == []


def test_the_nightly_end_keeps_the_last_month_report_and_the_dashboards_in_agreement(
    month, pack, client_manager, community_manager, direction
):
    """A contract whose last day is the 15th: ended by the nightly job on the 16th, it leaves the
    dashboards' active contracts at once, and still gets the month's report."""
    restaurant = _client("Fin au 15", community_manager)
    start = add_months(month, -1).replace(day=16)
    contract = sales_services.contract_sign(
        restaurant=restaurant, by=client_manager, pack=pack, start_date=start, duration_months=1
    )
    running = _client("Continue", community_manager)
    sales_services.contract_sign(
        restaurant=running, by=client_manager, pack=pack, start_date=add_months(month, -2)
    )
    sixteenth = month.replace(day=16)
    before = selectors.active_contracts_by_pack(user=direction, day=month.replace(day=15))

    sales_services.contracts_end_expired(today=sixteenth)

    after = selectors.active_contracts_by_pack(user=direction, day=sixteenth)
    contract.refresh_from_db()
    restaurant.refresh_from_db()
    assert (before["total"], after["total"]) == (2, 1)
    assert contract.status == ContractStatus.ENDED and contract.ended_at == month.replace(day=15)
    assert restaurant.status == "former"
    created = services.month_drafts_create(month=month)
    assert sorted(report.restaurant.name for report in created) == ["Continue", "Fin au 15"]
    assert MonthlyReport.objects.filter(restaurant=restaurant, month=month).count() == 1
    # The month after, nothing for it any more.
    assert [r.restaurant for r in services.month_drafts_create(month=add_months(month, 1))] == [
        running
    ]


# --- The month-end job ---------------------------------------------------------------------------


def test_the_month_end_task_run_twice_makes_one_draft_for_the_month_just_ended(bistro, month):
    from reports import tasks

    first = tasks.create_month_drafts()
    second = tasks.create_month_drafts()

    assert (first, second) == (1, 0)
    report = MonthlyReport.objects.get()
    assert (report.restaurant, report.month, report.version) == (bistro, month, 1)
    assert report.month == add_months(first_of_month(timezone.localdate()), -1)


def test_the_month_end_task_is_scheduled_on_the_first_of_each_month(db):
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="reports.tasks.create_month_drafts")

    assert job.enabled and job.crontab.day_of_month == "1"
    assert (job.crontab.month_of_year, job.crontab.day_of_week) == ("*", "*")
    assert (job.crontab.hour, job.crontab.minute) == ("3", "0")


def test_the_deadline_is_the_day_the_admin_set_in_the_next_month(bistro, month):
    from reports.models import ReportSettings

    report_settings = ReportSettings.load()
    report_settings.deadline_day = 5
    report_settings.save()

    [report] = services.month_drafts_create(month=month)

    assert report.deadline == add_months(month, 1).replace(day=5)
    assert MonthlyReport.objects.get().deadline.day == 5
