from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sales import services
from sales.enums import NodeKind, VisitStatus
from sales.models import SalesSettings, Visit, VisitFormNode
from tests.factories import RestaurantFactory, UserFactory

pytestmark = pytest.mark.django_db


def node(label_en: str) -> VisitFormNode:
    return VisitFormNode.objects.get(label_en=label_en)


@pytest.fixture
def restaurant(lyon, sales_agent):
    return RestaurantFactory(name="Le Bouchon", client=True, zone=lyon, sales_agent=sales_agent)


def test_visit_today_stores_answers_with_their_labels_and_sets_revisit(restaurant, sales_agent):
    today = timezone.localdate()
    revisit = services.revisit_from_preset("1m", today)

    visit = services.visit_record_today(
        restaurant=restaurant, by=sales_agent, day=today, report="",
        answers=[node("Visit").pk, node("Proposal handed over").pk, node("Premium pack").pk],
        revisit_date=revisit,
    )  # fmt: skip

    assert visit.status == VisitStatus.DONE
    assert visit.answers == [
        {"node": node("Visit").pk, "group": "Type de contact", "option": "Visite"},
        {
            "node": node("Proposal handed over").pk,
            "group": "Résultat",
            "option": "Proposition remise",
        },
        {"node": node("Premium pack").pk, "group": "Type de proposition", "option": "Pack Premium"},
    ]
    restaurant.refresh_from_db()
    assert restaurant.revisit_date == revisit
    assert restaurant.last_visit_at == visit.start
    assert restaurant.activities.filter(kind="system", subject="Visite faite").exists()


def test_labels_stay_as_they_were_that_day(restaurant, sales_agent):
    visit = services.visit_record_today(
        restaurant=restaurant, by=sales_agent, day=timezone.localdate(), answers=[node("Phone").pk]
    )

    VisitFormNode.objects.filter(label_en="Phone").update(label="Appel", label_fr="Appel")

    assert Visit.objects.get(pk=visit.pk).answers[0]["option"] == "Téléphone"


def test_visit_in_the_future_is_refused_with_a_clear_message(restaurant, sales_agent):
    with pytest.raises(ValidationError) as error:
        services.visit_record_today(
            restaurant=restaurant, by=sales_agent, day=timezone.localdate() + timedelta(days=1)
        )

    assert error.value.message_dict == {
        "day": ["Une visite ne peut pas être enregistrée dans le futur."]
    }
    assert not Visit.objects.exists()


def test_backdating_is_bounded_by_the_admin_setting(restaurant, sales_agent):
    settings = SalesSettings.load()
    settings.visit_backdate_days = 3
    settings.save()
    today = timezone.localdate()

    services.visit_record_today(
        restaurant=restaurant, by=sales_agent, day=today - timedelta(days=3)
    )
    with pytest.raises(ValidationError) as error:
        services.visit_record_today(
            restaurant=restaurant, by=sales_agent, day=today - timedelta(days=4)
        )

    assert "au plus tôt" in error.value.message_dict["day"][0]


def test_one_answer_only_in_a_radio_group(restaurant, sales_agent):
    with pytest.raises(ValidationError):
        services.visit_record_today(
            restaurant=restaurant,
            by=sales_agent,
            day=timezone.localdate(),
            answers=[node("Visit").pk, node("Phone").pk],
        )


def test_nested_answer_needs_its_parent(restaurant, sales_agent):
    with pytest.raises(ValidationError):
        services.visit_record_today(
            restaurant=restaurant,
            by=sales_agent,
            day=timezone.localdate(),
            answers=[node("Premium pack").pk],
        )


def test_inactive_or_unknown_answers_are_refused(restaurant, sales_agent):
    VisitFormNode.objects.filter(label_en="Delivery").update(active=False)

    for answers in ([node("Delivery").pk], [node("Outcome").pk], [999_999]):
        with pytest.raises(ValidationError):
            services.visit_record_today(
                restaurant=restaurant, by=sales_agent, day=timezone.localdate(), answers=answers
            )


def test_revisit_presets():
    today = date(2026, 1, 31)

    assert [services.revisit_from_preset(p, today) for p in ("1w", "2w", "1m", "3m", "6m", "1y")] == [
        date(2026, 2, 7), date(2026, 2, 14), date(2026, 2, 28), date(2026, 4, 30), date(2026, 7, 31), date(2027, 1, 31),
    ]  # fmt: skip


def test_an_agent_cannot_move_another_agents_visit(restaurant, sales_agent):
    other = UserFactory(roles=["sales_agent"])
    start = timezone.now() + timedelta(days=1)
    visit = Visit.objects.create(
        restaurant=restaurant, agent=other, start=start, end=start + timedelta(hours=1)
    )

    with pytest.raises(PermissionDenied):
        services.visit_move(
            visit=visit, by=sales_agent, start=start, end=start + timedelta(hours=2)
        )
    assert not Visit.objects.visible_to(sales_agent).filter(pk=visit.pk).exists()


def test_planned_visit_cannot_be_done_before_it_happens(restaurant, sales_agent):
    start = timezone.now() + timedelta(hours=2)
    visit = services.visit_plan(
        restaurant=restaurant,
        by=sales_agent,
        agent=sales_agent,
        start=start,
        end=start + timedelta(hours=1),
    )

    with pytest.raises(ValidationError):
        services.visit_complete(visit=visit, by=sales_agent)


def test_last_visit_never_moves_back(restaurant, sales_agent):
    today = timezone.localdate()
    recent = services.visit_record_today(restaurant=restaurant, by=sales_agent, day=today)
    services.visit_record_today(
        restaurant=restaurant, by=sales_agent, day=today - timedelta(days=2)
    )

    restaurant.refresh_from_db()
    assert restaurant.last_visit_at == recent.start


def test_visit_form_seeded_with_the_example():
    roots = list(VisitFormNode.objects.filter(parent=None).values_list("label_en", "kind"))

    assert roots == [
        ("Contact type", NodeKind.RADIO),
        ("Visit type", NodeKind.RADIO),
        ("Outcome", NodeKind.CHECKBOX),
    ]
    assert list(node("Proposal handed over").children.values_list("label_en", flat=True)) == [
        "Proposal type"
    ]
