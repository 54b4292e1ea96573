"""The desk's business hours: checked when an admin saves them, and due times that always end,
whatever is stored."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from social import services
from social.business_hours import add_business_hours
from social.models import SocialSettings

PARIS = ZoneInfo("Europe/Paris")
NINE, SIX = dt.time(9), dt.time(18)


def _errors(**fields) -> dict[str, list[str]]:
    config = SocialSettings(**fields)
    with translation.override("en"):
        with pytest.raises(ValidationError) as raised:
            config.clean()
        # The messages are lazy: read them while English is active.
        return {
            field: [str(m) for m in found] for field, found in raised.value.message_dict.items()
        }


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0,7", "“7” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."),
        ("mon,tue", "“mon” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."),
        ("1,-2", "“-2” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."),
        ("1.5", "“1.5” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."),
        ("²", "“²” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."),
        ("", "Give at least one business day."),
        (" , ", "Give at least one business day."),
        ("1,2,1,3,2", "Give each business day once; repeated: 1, 2."),
    ],
)  # fmt: skip
def test_clean_refuses_business_days_that_are_not_weekdays(db, days, message):
    assert _errors(business_days=days) == {"business_days": [message]}


def test_clean_accepts_weekdays_in_any_order_and_stores_them_sorted(db):
    config = SocialSettings(business_days=" 5, 0 ,2,")

    config.clean()

    assert config.business_days == "0,2,5"
    assert config.weekdays == {0, 2, 5}


@pytest.mark.parametrize("end", [dt.time(9), dt.time(8, 59)])
def test_clean_refuses_a_day_that_does_not_end_after_it_starts(db, end):
    assert _errors(business_day_start=NINE, business_day_end=end) == {
        "business_day_end": ["The business day must end after it starts."]
    }


def test_clean_refuses_a_response_target_of_no_hours(db):
    assert _errors(response_target_hours=0) == {
        "response_target_hours": ["The response target must be at least one hour."]
    }


def test_clean_reports_every_wrong_field_at_once(db):
    errors = _errors(business_days="9", business_day_end=dt.time(8), response_target_hours=0)

    assert sorted(errors) == ["business_day_end", "business_days", "response_target_hours"]


def test_stored_days_that_are_not_weekdays_are_left_out():
    assert SocialSettings(business_days="0,9,x,²,3, 4 ").weekdays == {0, 3, 4}


def _admin_data(config: SocialSettings, **changes) -> dict:
    data = {
        field.name: getattr(config, field.name)
        for field in SocialSettings._meta.concrete_fields
        if field.editable and not field.primary_key
    }
    data |= changes
    return {
        name: value.strftime("%H:%M:%S") if isinstance(value, dt.time) else str(value)
        for name, value in data.items()
    }


def test_admin_shows_the_errors_in_the_admins_language_and_saves_nothing(client, admin_user):
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    config = SocialSettings.load()
    client.force_login(admin_user)
    url = reverse("admin:social_socialsettings_change", args=[config.pk])

    response = client.post(
        url,
        _admin_data(
            config,
            business_days="0,1,1,8",
            business_day_start="18:00:00",
            business_day_end="09:00:00",
            response_target_hours="0",
            late_after_minutes="45",
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {
        "business_days": [
            "“8” is not a weekday number: use 0 (Monday) to 6 (Sunday), separated by commas."
        ],
        "business_day_end": ["The business day must end after it starts."],
        "response_target_hours": ["The response target must be at least one hour."],
    }
    assert "The business day must end after it starts." in response.content.decode()
    stored = SocialSettings.objects.get()
    assert (
        stored.business_days,
        stored.business_day_start,
        stored.business_day_end,
        stored.response_target_hours,
        stored.late_after_minutes,
    ) == ("0,1,2,3,4", NINE, SIX, 24, 10)


def test_admin_saves_valid_business_hours(client, admin_user):
    config = SocialSettings.load()
    client.force_login(admin_user)
    url = reverse("admin:social_socialsettings_change", args=[config.pk])

    response = client.post(
        url, _admin_data(config, business_days="5,1", business_day_end="17:30:00")
    )

    assert response.status_code == 302
    stored = SocialSettings.objects.get()
    assert (stored.business_days, stored.business_day_end) == ("1,5", dt.time(17, 30))


def _due(start, hours, *, weekdays, day_start=NINE, day_end=SIX) -> dt.datetime:
    return add_business_hours(
        start, hours, day_start=day_start, day_end=day_end, weekdays=weekdays, tz="Europe/Paris"
    )


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("weekdays", "day_start", "day_end"),
    [
        (set(), NINE, SIX),
        ({7, 8, -1}, NINE, SIX),
        ({0, 1}, SIX, NINE),
        ({0, 1}, NINE, NINE),
    ],
    ids=["no-day", "no-weekday", "ends-before-start", "empty-day"],
)
def test_settings_without_working_time_raise_instead_of_looping(weekdays, day_start, day_end):
    start = dt.datetime(2026, 11, 13, 17, 0, tzinfo=PARIS)

    with pytest.raises(ValueError):
        _due(start, 24, weekdays=weekdays, day_start=day_start, day_end=day_end)


@pytest.mark.timeout(10)
def test_a_target_no_calendar_can_hold_raises_instead_of_looping():
    start = dt.datetime(2026, 11, 13, 17, 0, tzinfo=PARIS)

    with pytest.raises(ValueError):
        # One microsecond of work a day: 32,767 hours lie beyond the year 9999.
        _due(start, 32767, weekdays={0, 1, 2, 3, 4}, day_end=dt.time(9, 0, 0, 1))
    with pytest.raises(ValueError):
        _due(start, float("inf"), weekdays={0})


def test_weekdays_outside_the_week_are_ignored():
    friday_5pm = dt.datetime(2026, 11, 13, 17, 0, tzinfo=PARIS)

    assert _due(friday_5pm, 24, weekdays={0, 1, 2, 3, 4, 7, 12}) == dt.datetime(
        2026, 11, 18, 14, 0, tzinfo=PARIS
    )


@pytest.mark.timeout(10)
def test_many_weeks_give_what_walking_them_gives():
    monday_8am = dt.datetime(2026, 11, 16, 8, 0, tzinfo=PARIS)

    # One hour on Mondays: 16 Nov, 23, 30, 7 Dec, 14, 21, 28, 4 Jan, 11, and the tenth on 18 Jan.
    due = _due(monday_8am, 10, weekdays={0}, day_start=NINE, day_end=dt.time(10))
    # 52 hours: a year of Mondays, whole weeks skipped on the way.
    far = _due(monday_8am, 52, weekdays={0}, day_start=NINE, day_end=dt.time(10))

    assert due == dt.datetime(2027, 1, 18, 10, 0, tzinfo=PARIS)
    assert far == dt.datetime(2027, 11, 8, 10, 0, tzinfo=PARIS)


def test_a_negative_target_is_due_at_the_next_working_moment():
    saturday = dt.datetime(2026, 11, 14, 11, 0, tzinfo=PARIS)

    assert _due(saturday, -5, weekdays={0, 1, 2, 3, 4}) == dt.datetime(
        2026, 11, 16, 9, 0, tzinfo=PARIS
    )


def test_due_time_falls_back_to_the_default_hours_when_the_stored_ones_give_none(bistro):
    SocialSettings.load()
    # Written around the admin's checks, as a shell or an import could.
    SocialSettings.objects.update(business_days="7,9", business_day_end=dt.time(8))
    friday_5pm = dt.datetime(2026, 11, 13, 17, 0, tzinfo=PARIS)

    due = services.review_due_at(opened_at=friday_5pm, restaurant=bistro)

    # The defaults: 24 business hours, 9:00-18:00, Monday to Friday.
    assert due == dt.datetime(2026, 11, 18, 14, 0, tzinfo=PARIS)
