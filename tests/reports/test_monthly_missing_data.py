"""Accounts without data for the month: found per account and network from the stored
snapshots, said on the editor and in the PDF; generating fails only when the month has no data
at all."""

import datetime as dt
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from crm.models import Contact, ContactLink
from reports import document, indicators, services
from reports.models import ReportError, ReportStatus
from sales.models import add_months, first_of_month
from social.enums import ErrorCode
from social.models import MetricSnapshot
from tests.social.conftest import make_account, make_bistro


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
    owner = Contact.objects.create(last_name="Martin", email="paul@bistro.example")
    ContactLink.objects.create(restaurant=restaurant, contact=owner, role="owner")
    return restaurant


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def accounts(bistro, month):
    """Facebook fetched all month; Instagram failing since the month before (the platform
    refused the access on the 3rd of the month before); Google connected before the month and
    never fetched; a second Facebook page connected after the month; TripAdvisor (reviews only,
    no statistics). Only Facebook has snapshots, on the 1st and the 20th."""
    before = _at(add_months(month, -2))
    facebook = make_account(bistro, "facebook", name="Bistro", last_fetch_at=_at(month, 3))
    instagram = make_account(
        bistro, "instagram", name="bistro.lyon",
        last_fetch_at=_at(add_months(month, -1)),
        last_error_code=ErrorCode.NEEDS_RECONNECT,
        last_error="Error validating access token",
        last_error_at=_at(add_months(month, -1) + dt.timedelta(days=2)),
    )  # fmt: skip
    google = make_account(bistro, "google", name="Le Bistro")
    second = make_account(bistro, "facebook", name="Bistro Traiteur")
    tripadvisor = make_account(bistro, "tripadvisor", name="Le Bistro")
    for account in (facebook, instagram, google, tripadvisor):
        type(account).objects.filter(pk=account.pk).update(created_at=before)
    MetricSnapshot.objects.bulk_create(
        [
            MetricSnapshot(account=facebook, metric="followers", day=month, value=100),
            MetricSnapshot(
                account=facebook, metric="reach", day=month + dt.timedelta(days=19), value=40
            ),
            # Instagram's last data is from the month before: none for this month.
            MetricSnapshot(
                account=instagram, metric="reach", day=month - dt.timedelta(days=1), value=7
            ),
        ]
    )
    return {"facebook": facebook, "instagram": instagram, "google": google, "second": second}


def test_accounts_without_a_snapshot_this_month_are_found_with_what_they_say(
    bistro, month, accounts
):
    gaps = indicators.data_gaps(restaurant=bistro, month=month)

    today = timezone.localdate().isoformat()
    failed_on = (add_months(month, -1) + dt.timedelta(days=2)).isoformat()
    # By network then name; TripAdvisor gives no statistics; Facebook has two pages: named.
    assert gaps == [
        {"network": "facebook", "account": "Bistro Traiteur", "named": True, "error": "",
         "error_at": None, "last_fetch_at": None, "connected_at": today},
        {"network": "google", "account": "Le Bistro", "named": False, "error": "",
         "error_at": None, "last_fetch_at": None,
         "connected_at": add_months(month, -2).isoformat()},
        {"network": "instagram", "account": "bistro.lyon", "named": False,
         "error": "needs_reconnect", "error_at": failed_on,
         "last_fetch_at": add_months(month, -1).isoformat(),
         "connected_at": add_months(month, -2).isoformat()},
    ]  # fmt: skip


def test_each_gap_is_worded_with_its_reason(bistro, month, accounts):
    figures = indicators.compute(restaurant=bistro, month=month, language="en")

    with translation.override("en"):
        lines = document.gap_lines(figures)
        detailed = document.gap_lines(figures, detail=True)
        today = formats.date_format(timezone.localdate(), "DATE_FORMAT")
        failed_on = formats.date_format(add_months(month, -1) + dt.timedelta(days=2), "DATE_FORMAT")
        reconnect = str(ErrorCode.NEEDS_RECONNECT.label)

    assert lines == [
        f"No data for Facebook (Bistro Traiteur) this month: the account was connected on {today}.",
        "No data for Google Business Profile this month: the account has never been fetched.",
        f"No data for Instagram this month: the last fetch failed on {failed_on}.",
    ]
    assert detailed[2] == f"{lines[2]} {reconnect}" and detailed[:2] == lines[:2]


def test_an_account_fetched_since_that_brought_nothing_for_the_month_says_so(
    bistro, month, accounts
):
    type(accounts["google"]).objects.filter(pk=accounts["google"].pk).update(
        last_fetch_at=_at(add_months(month, 1) + dt.timedelta(days=1))
    )
    figures = indicators.compute(restaurant=bistro, month=month, language="en")

    with translation.override("en"):
        line = document.gap_lines(figures)[1]
        fetched = formats.date_format(add_months(month, 1) + dt.timedelta(days=1), "DATE_FORMAT")

    assert line == (
        f"No data for Google Business Profile this month: the last fetch, on {fetched}, "
        "brought none for it."
    )


def test_no_gap_for_a_month_whose_days_cannot_be_fetched_yet(bistro, accounts):
    next_month = add_months(first_of_month(timezone.localdate()), 1)

    assert indicators.data_gaps(restaurant=bistro, month=next_month) == []


def test_the_editor_warns_of_the_accounts_without_data(client, bistro, month, accounts):
    [report] = services.month_drafts_create(month=month)
    client.force_login(bistro.community_manager)

    page = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()

    warning = page.split('data-testid="report-gaps"', 1)[1].split("</div>", 1)[0]
    with translation.override("fr"):
        failed_on = formats.date_format(add_months(month, -1) + dt.timedelta(days=2), "DATE_FORMAT")
        reconnect = str(ErrorCode.NEEDS_RECONNECT.label)
        expected = gettext(
            "No data for %(network)s this month: the last fetch failed on %(date)s."
        ) % {"network": "Instagram", "date": failed_on}
    assert warning.count("<li>") == 3
    assert f"{expected} {reconnect}".replace("'", "&#x27;") in warning


def test_a_report_with_some_data_is_made_and_its_pdf_says_what_is_missing(bistro, month, accounts):
    bistro.language = "en"
    bistro.save()
    [report] = services.month_drafts_create(month=month)

    report = services.report_generate(report=report)

    assert report.status == ReportStatus.GENERATED and not report.error_kind
    assert [gap["network"] for gap in report.indicators["gaps"]] == [
        "facebook", "google", "instagram",
    ]  # fmt: skip
    with report.pdf.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    cover = " ".join(reader.pages[0].extract_text().split())
    with translation.override("en"):
        failed_on = formats.date_format(add_months(month, -1) + dt.timedelta(days=2), "DATE_FORMAT")
    assert f"No data for Instagram this month: the last fetch failed on {failed_on}." in cover
    assert "never been fetched" in cover
    # The client reads what happened, not the desk's diagnosis; the cover still holds on a page.
    assert "reconnect" not in cover.lower()
    following = reader.pages[1].extract_text()
    assert "Audience and activity" in following and "No data for" not in following


def test_a_month_without_any_data_fails_with_the_reason_and_the_editor_says_why(
    client, bistro, month, accounts
):
    MetricSnapshot.objects.filter(account=accounts["facebook"]).delete()
    [report] = services.month_drafts_create(month=month)

    report = services.report_generate(report=report)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.NO_DATA
    assert not report.pdf
    client.force_login(bistro.community_manager)
    page = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()
    assert 'data-testid="report-error"' in page
    assert page.split('data-testid="report-gaps"', 1)[1].split("</div>", 1)[0].count("<li>") == 4


def test_reviews_answered_in_the_month_are_data_enough(bistro, month):
    from social.models import Review, ReviewTask, TaskState

    google = make_account(bistro, "google")
    written = _at(month - dt.timedelta(days=3))
    review = Review.objects.create(
        account=google, restaurant=bistro, network="google", external_id="late", rating=4,
        author="Camille", written_at=written, updated_at=written, replied_at=_at(month, 9),
    )  # fmt: skip
    ReviewTask.objects.create(
        review=review, opened_at=written, due_at=written + dt.timedelta(hours=24),
        state=TaskState.ANSWERED, answered_at=_at(month, 9),
    )  # fmt: skip

    figures = indicators.compute(restaurant=bistro, month=month, language="fr")

    assert figures["metrics"] == [] and not figures["reviews"]["count"]
    assert figures["reviews"]["answered"] == 1 and indicators.has_data(figures)
