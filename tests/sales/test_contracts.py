from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from sales import services
from sales.enums import ContractStatus
from sales.models import Invoice, add_months
from tests.factories import RestaurantFactory

pytestmark = pytest.mark.django_db


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 13) == date(2027, 12, 15)


def test_contract_end_date_is_computed(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 15)
    )

    assert (contract.end_date, contract.status) == (date(2027, 2, 14), ContractStatus.ACTIVE)
    assert contract.terms.get().monthly_price == Decimal("149.00")
    assert client_restaurant.activities.filter(subject__startswith="Contrat signé").exists()


def test_custom_terms_and_26_months(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 3, 1), duration_months=26,
        monthly_price=Decimal("129.00"), posts_per_month=6, networks=["facebook"],
    )  # fmt: skip

    terms = contract.terms.get()
    assert (contract.end_date, terms.monthly_price, terms.posts_per_month, terms.networks) == (
        date(2028, 4, 30), Decimal("129.00"), 6, ["facebook"],
    )  # fmt: skip


def test_contract_on_a_prospect_waits_for_the_conversion(sales_agent, pack, lyon):
    from crm.models import Restaurant

    prospect = RestaurantFactory(created_by=sales_agent, sales_agent=sales_agent, zone=lyon)
    contract = services.contract_sign(
        restaurant=prospect, by=sales_agent, pack=pack, start_date=date(2026, 1, 1)
    )
    assert contract.status == ContractStatus.DRAFT
    assert services.invoices_bill_month(month=date(2026, 1, 1)) == []

    Restaurant.objects.filter(pk=prospect.pk).update(status="client", client_code="C01000")
    prospect.refresh_from_db()
    from crm.signals import restaurant_converted

    restaurant_converted.send(sender=Restaurant, restaurant=prospect, by=sales_agent)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_agent_cannot_sign_for_a_restaurant_outside_scope(sales_agent, pack):
    other = RestaurantFactory(client=True)

    with pytest.raises(PermissionDenied):
        services.contract_sign(
            restaurant=other, by=sales_agent, pack=pack, start_date=date(2026, 1, 1)
        )


def test_renewal_starts_the_day_after_and_links_the_old_one(
    client_manager, client_restaurant, pack
):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 15)
    )

    renewal = services.contract_renew(contract=contract, by=client_manager)

    assert (renewal.start_date, renewal.end_date, renewal.renewal_of) == (
        date(2027, 2, 15),
        date(2028, 3, 14),
        contract,
    )
    with pytest.raises(ValidationError):
        services.contract_renew(contract=contract, by=client_manager)


def test_billing_thirteen_months_once_each(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 15)
    )

    for offset in range(16):
        services.invoices_bill_month(month=add_months(date(2026, 1, 1), offset))
        services.invoices_bill_month(month=add_months(date(2026, 1, 1), offset))

    invoices = list(Invoice.objects.filter(contract=contract).order_by("month"))
    assert len(invoices) == 13
    assert invoices[0].month == date(2026, 1, 1) and invoices[-1].month == date(2027, 1, 1)
    assert {invoice.amount for invoice in invoices} == {Decimal("149.00")}
    assert invoices[0].number == f"F202601-{contract.pk:06d}"


def test_upgrade_bills_the_new_price_from_its_date(
    client_manager, client_restaurant, pack, premium
):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
    )

    services.contract_upgrade(
        contract=contract, by=client_manager, starts_on=date(2026, 4, 1), pack=premium,
        monthly_price=Decimal("229.00"), posts_per_month=16, networks=premium.networks,
    )  # fmt: skip
    for month in range(1, 7):
        services.invoices_bill_month(month=date(2026, month, 1))

    amounts = list(Invoice.objects.order_by("month").values_list("amount", "pack_name"))
    assert amounts == [(Decimal("149.00"), "Essentiel")] * 3 + [(Decimal("229.00"), "Premium")] * 3


def test_suspended_months_are_not_billed(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
    )

    services.contract_suspend(
        contract=contract, by=client_manager, start_date=date(2026, 3, 1), reason="Travaux"
    )
    services.contract_resume(contract=contract, by=client_manager, end_date=date(2026, 4, 30))
    for month in range(1, 7):
        services.invoices_bill_month(month=date(2026, month, 1))

    assert [m.month.month for m in Invoice.objects.order_by("month")] == [1, 2, 5, 6]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert [(s.start_date, s.end_date) for s in contract.suspensions.all()] == [
        (date(2026, 3, 1), date(2026, 4, 30))
    ]


def test_ending_early_stops_billing_and_keeps_the_reason(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
    )

    with pytest.raises(ValidationError):
        services.contract_end(
            contract=contract, by=client_manager, ended_at=date(2026, 3, 31), reason=""
        )
    services.contract_end(
        contract=contract, by=client_manager, ended_at=date(2026, 3, 31), reason="Fermeture"
    )
    for month in range(1, 7):
        services.invoices_bill_month(month=date(2026, month, 1))

    assert Invoice.objects.count() == 3
    contract.refresh_from_db()
    assert (contract.status, contract.end_reason) == (ContractStatus.ENDED, "Fermeture")
    client_restaurant.refresh_from_db()
    assert client_restaurant.status == "former"


def test_bill_month_command_is_idempotent(client_manager, client_restaurant, pack):
    from io import StringIO

    services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 2, 1)
    )
    first, second = StringIO(), StringIO()

    call_command("bill_month", "--month", "2026-02", stdout=first)
    call_command("bill_month", "--month", "2026-02", stdout=second)

    assert first.getvalue().strip() == "2026-02: 1 invoice(s) created, 149.00 €."
    assert second.getvalue().strip() == "2026-02: 0 invoice(s) created, 0 €."


def test_ending_contracts_are_reminded_once(
    client_manager, client_restaurant, pack, sales_agent, django_capture_on_commit_callbacks
):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2025, 3, 1)
    )
    today = date(2026, 2, 10)  # ends 2026-03-31, 49 days later

    with django_capture_on_commit_callbacks(execute=True):
        first = services.contracts_remind_ending(today=today)
    second = services.contracts_remind_ending(today=today)

    assert (first, second) == (1, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([client_manager.email, sales_agent.email])
    assert (
        mail.outbox[0].subject
        == f"Contrat bientôt échu : {client_restaurant.client_code} Le Bouchon (31/03/2026)"
    )
    contract.refresh_from_db()
    assert contract.reminder_sent_at is not None


def test_invoice_list_filters_totals_and_exports(
    client, accountant, client_manager, client_restaurant, pack
):
    import csv
    import io

    services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
    )
    for month in (1, 2, 3):
        services.invoices_bill_month(month=date(2026, month, 1))
    client.force_login(accountant)

    page = client.get("/invoices/", {"month": "2026-02"})
    export = client.get("/invoices/", {"month": "2026-02", "format": "csv"})

    assert [invoice.month for invoice in page.context["page"]] == [date(2026, 2, 1)]
    assert page.context["total"] == Decimal("149.00")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["number", "month", "client_code", "restaurant", "pack", "amount"]
    assert rows[1][1:] == [
        "2026-02",
        client_restaurant.client_code,
        "Le Bouchon",
        "Essentiel",
        "149.00",
    ]


@pytest.mark.parametrize("count", [1, 25])
def test_invoice_list_runs_a_constant_number_of_queries(
    client, accountant, client_manager, lyon, pack, django_assert_max_num_queries, count
):
    for _ in range(count):
        restaurant = RestaurantFactory(client=True, zone=lyon)
        services.contract_sign(
            restaurant=restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
        )
    services.invoices_bill_month(month=date(2026, 1, 1))
    client.force_login(accountant)

    with django_assert_max_num_queries(12):
        response = client.get("/invoices/")

    assert response.context["page"].paginator.count == count


@pytest.mark.parametrize("count", [1, 25])
def test_contract_list_runs_a_constant_number_of_queries(
    client, direction, client_manager, lyon, pack, django_assert_max_num_queries, count
):
    for _ in range(count):
        restaurant = RestaurantFactory(client=True, zone=lyon)
        services.contract_sign(
            restaurant=restaurant, by=client_manager, pack=pack, start_date=date(2026, 1, 1)
        )
    client.force_login(direction)

    with django_assert_max_num_queries(14):
        response = client.get("/contracts/")

    assert len(response.context["page"].object_list) == count


def test_contracts_ending_soon_show_on_the_agents_dashboard(
    client, sales_agent, client_manager, client_restaurant, pack
):
    from django.utils import timezone

    start = add_months(timezone.localdate().replace(day=1), -12)
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=start
    )
    client.force_login(sales_agent)

    dashboard = client.get("/")

    assert dashboard.context["ending_contracts"] == [contract]
