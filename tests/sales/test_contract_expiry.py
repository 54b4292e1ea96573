"""The nightly job that ends contracts whose last day is over, as contract_end ends one."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import translation

from crm.enums import RestaurantStatus
from sales import services, tasks
from sales.enums import ContractStatus
from tests.factories import RestaurantFactory

pytestmark = pytest.mark.django_db

# A 13-month contract from 1 January 2025 runs until 31 January 2026.
START, LAST_DAY, NEXT_DAY = date(2025, 1, 1), date(2026, 1, 31), date(2026, 2, 1)


@pytest.fixture
def contract(client_manager, client_restaurant, pack):
    return services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=START
    )


def test_a_contract_past_its_last_day_ends_on_it_and_its_restaurant_becomes_former(contract):
    with translation.override("en"):
        ended = services.contracts_end_expired(today=NEXT_DAY)

    contract.refresh_from_db()
    assert ended == [contract]
    assert (contract.status, contract.ended_at) == (ContractStatus.ENDED, LAST_DAY)
    assert contract.end_reason == "Reached its end date."
    latest = contract.history.first()
    assert (latest.status, latest.ended_at, latest.history_user) == (
        ContractStatus.ENDED,
        LAST_DAY,
        None,
    )
    restaurant = contract.restaurant
    restaurant.refresh_from_db()
    assert restaurant.status == RestaurantStatus.FORMER
    [entry] = restaurant.activities.filter(subject__startswith="Contract ended")
    assert entry.subject == "Contract ended on 31/01/2026" and entry.author is None
    assert entry.body == "Reached its end date."


def test_running_twice_ends_it_once(contract):
    first = services.contracts_end_expired(today=NEXT_DAY)
    second = services.contracts_end_expired(today=NEXT_DAY)

    assert (len(first), second) == (1, [])
    assert contract.restaurant.activities.filter(subject__startswith="Contrat terminé").count() == 1
    assert contract.history.filter(status=ContractStatus.ENDED).count() == 1


def test_a_contract_on_its_last_day_still_runs(contract):
    assert services.contracts_end_expired(today=LAST_DAY) == []

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_a_renewed_contract_ends_and_its_renewal_keeps_the_restaurant_a_client(
    contract, client_manager
):
    renewal = services.contract_renew(contract=contract, by=client_manager)

    with translation.override("en"):
        ended = services.contracts_end_expired(today=NEXT_DAY)

    contract.refresh_from_db()
    renewal.refresh_from_db()
    contract.restaurant.refresh_from_db()
    assert ended == [contract] and contract.ended_at == LAST_DAY
    assert contract.end_reason == "Reached its end date; its renewal carries on."
    assert renewal.status == ContractStatus.ACTIVE and renewal.start_date == NEXT_DAY
    assert contract.restaurant.status == RestaurantStatus.CLIENT


def test_a_restaurant_with_another_running_contract_stays_a_client(
    contract, client_manager, client_restaurant, premium
):
    other = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=premium, start_date=date(2025, 6, 1)
    )

    services.contracts_end_expired(today=NEXT_DAY)

    other.refresh_from_db()
    client_restaurant.refresh_from_db()
    assert other.status == ContractStatus.ACTIVE
    assert client_restaurant.status == RestaurantStatus.CLIENT


def test_a_suspended_contract_past_its_last_day_ends_and_its_suspension_closes(
    contract, client_manager
):
    suspension = services.contract_suspend(
        contract=contract, by=client_manager, start_date=date(2025, 12, 1), reason="Travaux"
    )

    services.contracts_end_expired(today=NEXT_DAY)

    contract.refresh_from_db()
    suspension.refresh_from_db()
    assert contract.status == ContractStatus.ENDED and suspension.end_date == LAST_DAY


def test_ended_and_draft_contracts_are_left_alone(
    contract, client_manager, pack, sales_agent, lyon
):
    services.contract_end(
        contract=contract, by=client_manager, ended_at=date(2025, 6, 30), reason="Fermeture"
    )
    prospect = RestaurantFactory(created_by=sales_agent, sales_agent=sales_agent, zone=lyon)
    draft = services.contract_sign(restaurant=prospect, by=sales_agent, pack=pack, start_date=START)

    assert services.contracts_end_expired(today=NEXT_DAY) == []

    contract.refresh_from_db()
    draft.refresh_from_db()
    assert (contract.ended_at, contract.end_reason) == (date(2025, 6, 30), "Fermeture")
    assert draft.status == ContractStatus.DRAFT and draft.ended_at is None


def test_the_command_and_the_task_run_the_same_job(contract, client_manager, client_restaurant):
    out = io.StringIO()
    call_command("end_contracts", "--today", "2026-02-01", stdout=out)
    again = io.StringIO()
    call_command("end_contracts", "--today", "2026-02-01", stdout=again)

    assert out.getvalue().splitlines() == [
        "2026-02-01: 1 contract(s) ended.",
        f"  {client_restaurant} (2026-01-31)",
    ]
    assert again.getvalue().strip() == "2026-02-01: 0 contract(s) ended."
    # The task runs it for today: the contract is over already, nothing more to end.
    assert tasks.end_expired_contracts() == 0


def test_the_task_ends_what_is_over_today(client_manager, client_restaurant, pack):
    contract = services.contract_sign(
        restaurant=client_restaurant, by=client_manager, pack=pack, start_date=START
    )

    assert tasks.end_expired_contracts() == 1

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED


def test_the_job_is_scheduled_every_night():
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(task="sales.tasks.end_expired_contracts")

    assert job.enabled and job.crontab.day_of_month == "*" and job.crontab.hour == "0"
