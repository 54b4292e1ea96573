"""Monthly client reports: month-end drafts, frozen indicators checked by hand, the PDF, sending
(and its failure), comment sanitising, versions, scope, batches and the command."""

import calendar
import datetime as dt
import html
import io
import re
import smtplib

import pypdf
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from comadvisor.models import SiteSettings
from crm.models import Activity, Contact, ContactLink
from reports import indicators, services
from reports.models import MonthlyReport, ReportBatch, ReportBatchItem, ReportError, ReportStatus
from sales import services as sales_services
from sales.models import Pack, add_months, first_of_month
from social.enums import PostStatus, PublicationState
from social.models import (
    MetricSnapshot,
    Post,
    Publication,
    Review,
    ReviewTask,
    SocialAccount,
    TaskState,
)
from tests.factories import RestaurantFactory, UserFactory
from tests.social.conftest import make_account, make_bistro

A4 = (595, 842)


@pytest.fixture
def eager(eager_tasks):
    """Tasks in the test's process (see tests/conftest.py)."""


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
def month():
    return add_months(first_of_month(timezone.localdate()), -1)


@pytest.fixture
def figures_data(bistro, month):
    """Followers 100 -> 120 (last month -> this month), 90 a year ago; 15 new followers; reach 10 a
    day for five days; on Google 10 bookings, 5 calls, 5 direction requests, 7 website and 3 menu
    clicks this month, 4 bookings last month, 2 bookings and 2 food orders a year ago; two reviews
    this month (5 and 3 stars), one answered within target and one late; one last month (4 stars,
    answered within target after 2 h), one a year ago (2 stars, never answered)."""
    google = make_account(bistro, "google")
    facebook = make_account(bistro, "facebook")
    previous, last_year = add_months(month, -1), add_months(month, -12)

    def snapshot(account, metric, day, value):
        return MetricSnapshot(account=account, metric=metric, day=day, value=value)

    rows = [
        snapshot(facebook, "followers", month + dt.timedelta(days=3), 110),
        snapshot(facebook, "followers", month + dt.timedelta(days=20), 120),
        snapshot(facebook, "followers", previous + dt.timedelta(days=27), 100),
        snapshot(facebook, "followers", last_year + dt.timedelta(days=10), 90),
        snapshot(facebook, "new_followers", month + dt.timedelta(days=1), 15),
        snapshot(google, "bookings", month, 4),
        snapshot(google, "bookings", month + dt.timedelta(days=1), 6),
        snapshot(google, "calls", month + dt.timedelta(days=2), 5),
        snapshot(google, "directions", month + dt.timedelta(days=2), 5),
        snapshot(google, "website_clicks", month + dt.timedelta(days=4), 7),
        snapshot(google, "menu_clicks", month + dt.timedelta(days=5), 3),
        snapshot(google, "bookings", previous + dt.timedelta(days=3), 4),
        snapshot(google, "bookings", last_year + dt.timedelta(days=3), 2),
        snapshot(google, "food_orders", last_year + dt.timedelta(days=4), 2),
    ] + [snapshot(facebook, "reach", month + dt.timedelta(days=day), 10) for day in range(5)]
    MetricSnapshot.objects.bulk_create(rows)

    def review(key, rating, written_on, *, hours=None, due_hours=24):
        written = timezone.make_aware(dt.datetime.combine(written_on, dt.time(10)))
        answered = written + dt.timedelta(hours=hours) if hours is not None else None
        made = Review.objects.create(
            account=google, restaurant=bistro, network="google", external_id=key,
            rating=rating, author="Camille", written_at=written, updated_at=written,
            replied_at=answered,
        )  # fmt: skip
        if answered:
            ReviewTask.objects.create(
                review=made, opened_at=written, due_at=written + dt.timedelta(hours=due_hours),
                state=TaskState.ANSWERED, answered_at=answered,
            )  # fmt: skip

    review("r5", 5, month + dt.timedelta(days=2), hours=3)
    review("r3", 3, month + dt.timedelta(days=2), hours=30, due_hours=8)
    review("p4", 4, previous + dt.timedelta(days=5), hours=2)
    review("y2", 2, last_year + dt.timedelta(days=5))
    return bistro


# --- Month end -------------------------------------------------------------------------------------


def test_month_end_makes_one_draft_per_client_with_the_service_and_tells_its_manager_once(
    bistro, month, community_manager, django_capture_on_commit_callbacks
):
    without = RestaurantFactory(
        name="Sans rapport", client=True, community_manager=community_manager
    )
    community_manager.email = "cm@example.com"
    community_manager.save()

    with django_capture_on_commit_callbacks(execute=True):
        first = services.month_drafts_create(month=month)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.month_drafts_create(month=month)

    assert [report.restaurant for report in first] == [bistro] and second == []
    report = MonthlyReport.objects.get()
    assert report.status == ReportStatus.DRAFT and report.month == month
    assert report.deadline == add_months(month, 1).replace(day=10)
    assert report.recipients == "paul@bistro.example"
    assert not MonthlyReport.objects.filter(restaurant=without).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cm@example.com"] and "Le Bistro" in mail.outbox[0].body


def test_the_command_creates_drafts_and_generates_them(figures_data, month, capsys):
    call_command("monthly_reports", "--month", f"{month:%Y-%m}", "--generate")
    call_command("monthly_reports", "--month", f"{month:%Y-%m}")

    out = capsys.readouterr().out
    assert "1 draft(s) created" in out and "1 PDF(s) generated" in out
    assert "0 draft(s) created" in out
    assert MonthlyReport.objects.get().status == ReportStatus.GENERATED


# --- Indicators ------------------------------------------------------------------------------------


def test_indicators_match_the_hand_computed_figures(figures_data, month):
    figures = indicators.compute(restaurant=figures_data, month=month, language="fr")

    metrics = {row["key"]: row for row in figures["metrics"]}
    assert list(metrics) == [
        "followers", "new_followers", "reach", "bookings", "menu_clicks", "calls",
        "website_clicks", "directions",
    ]  # fmt: skip
    # Followers are a level: the month's last value (120), against 100 and 90.
    assert (metrics["followers"]["value"], metrics["followers"]["previous"]) == (120, 100)
    assert metrics["followers"]["last_year"] == 90
    assert metrics["followers"]["mom"] == 20.0 and metrics["followers"]["yoy"] == 33.3
    assert metrics["reach"]["value"] == 50 and metrics["new_followers"]["value"] == 15
    assert (metrics["bookings"]["value"], metrics["bookings"]["previous"]) == (10, 4)
    assert metrics["bookings"]["last_year"] == 2 and metrics["bookings"]["mom"] == 150.0
    assert metrics["website_clicks"]["value"] == 7 and metrics["menu_clicks"]["value"] == 3
    assert metrics["website_clicks"]["label"] == "Clics vers le site"
    reviews = figures["reviews"]
    assert (reviews["count"], reviews["rating"]) == (2, 4.0)
    assert (reviews["answered"], reviews["within_target"], reviews["share_within_target"]) == (
        2,
        1,
        50.0,
    )
    assert reviews["median_hours"] == 16.5  # (3 + 30) / 2
    assert reviews["previous"] == {
        "count": 1, "rating": 4.0, "answered": 1, "within_target": 1,
        "share_within_target": 100.0, "median_hours": 2.0,
    }  # fmt: skip
    assert reviews["last_year"] == {
        "count": 1, "rating": 2.0, "answered": 0, "within_target": 0,
        "share_within_target": None, "median_hours": None,
    }  # fmt: skip
    assert figures["posts"] == {"value": 0, "previous": 0, "last_year": 0}
    # ROI at the default ticket (25 EUR): 10 bookings x 2.5 + 5 calls x 0.3 x 2 + 5 direction
    # requests x 0.2 x 2 = 25 + 3 + 2 = 30 guests, 750 EUR, 3.75 per euro of the 200 EUR pack.
    roi = figures["roi"]
    assert (roi["bookings"], roi["calls"], roi["directions"]) == (10, 5, 5)
    assert (roi["guests"], roi["value"], roi["monthly_price"], roi["ratio"]) == (
        30.0, 750.0, 200.0, 3.75,
    )  # fmt: skip
    assert roi["ticket_is_default"] is True and roi["average_ticket"] == 25.0
    # Last month: 4 bookings = 10 guests, 250 EUR; the contract began after its first day.
    previous = roi["previous"]
    assert (previous["bookings"], previous["guests"], previous["value"]) == (4, 10.0, 250.0)
    assert (previous["monthly_price"], previous["ratio"]) == (None, None)
    # A year ago: 2 bookings x 2.5 + 2 food orders x 1.5 = 8 guests, 200 EUR; no contract then.
    last_year = roi["last_year"]
    assert (last_year["guests"], last_year["value"], last_year["ratio"]) == (8.0, 200.0, None)
    # The verdict: rating 4.0 counts half, the growing audience one, 50 % within target half:
    # 2 of 3, "fair".
    assert figures["status"]["level"] == "fair"
    assert len(figures["status"]["points"]) == 3
    assert len(figures["history"]["labels"]) == 13
    assert figures["history"]["series"]["followers"][-1] == 120
    assert figures["history"]["series"]["followers"][0] == 90


def test_interactions_and_posts_match_the_hand_computed_figures(
    figures_data, month, community_manager
):
    facebook = SocialAccount.objects.get(restaurant=figures_data, network="facebook")
    google = SocialAccount.objects.get(restaurant=figures_data, network="google")
    previous, last_year = add_months(month, -1), add_months(month, -12)
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=facebook, metric="interactions", day=day, value=value)
        for day, value in (
            (month + dt.timedelta(days=1), 12),
            (month + dt.timedelta(days=9), 8),
            (previous + dt.timedelta(days=2), 16),
            (last_year + dt.timedelta(days=6), 10),
            (add_months(month, -2) + dt.timedelta(days=6), 99),  # none of the three months
        )
    )

    def post(day, *accounts, state=PublicationState.PUBLISHED):
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        made = Post.objects.create(
            restaurant=figures_data, text="Plat du jour", status=PostStatus.DONE,
            scheduled_at=at, created_by=community_manager,
        )  # fmt: skip
        for account in accounts:
            Publication.objects.create(
                post=made, account=account, state=state, due_at=at,
                published_at=at if state == PublicationState.PUBLISHED else None,
            )  # fmt: skip

    # The month: one post on two accounts and one on one (3 publications), one that failed.
    post(month + dt.timedelta(days=3), facebook, google)
    post(month + dt.timedelta(days=12), facebook)
    post(month + dt.timedelta(days=14), google, state=PublicationState.FAILED)
    post(previous + dt.timedelta(days=20), facebook)
    post(last_year + dt.timedelta(days=1), facebook, google)

    figures = indicators.compute(restaurant=figures_data, month=month, language="fr")

    interactions = next(row for row in figures["metrics"] if row["key"] == "interactions")
    # 12 + 8 = 20 against 16 (+25 %) and 10 a year ago (+100 %).
    assert (interactions["value"], interactions["previous"], interactions["last_year"]) == (
        20, 16, 10,
    )  # fmt: skip
    assert (interactions["mom"], interactions["yoy"]) == (25.0, 100.0)
    assert interactions["label"] == "Interactions"
    assert [row["key"] for row in figures["metrics"]][3] == "interactions"
    # Posts published count each account a post went out on; a failed one does not count.
    assert figures["posts"] == {"value": 3, "previous": 1, "last_year": 2}
    assert figures["history"]["series"]["interactions"][0] == 10
    assert figures["history"]["series"]["interactions"][-3:] == [99, 16, 20]


# --- Generating ------------------------------------------------------------------------------------


def _pdf_text(report) -> tuple[pypdf.PdfReader, str]:
    with report.pdf.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _raster_images(reader: pypdf.PdfReader) -> list[str]:
    """Every bitmap the PDF holds, also inside form XObjects (where WeasyPrint puts the SVGs)."""
    found, seen = [], set()

    def walk(resources):
        for name, ref in (resources or {}).get("/XObject", {}).items():
            key = getattr(ref, "idnum", id(ref))
            if key in seen:
                continue
            seen.add(key)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                found.append(name)
            elif xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return found


def test_generating_makes_an_a4_pdf_in_the_clients_language(figures_data, month, community_manager):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>Un <strong>très bon</strong> mois.</p>",
        recipients="paul@bistro.example",
    )  # fmt: skip

    report = services.report_generate(report=report, by=community_manager)

    assert report.status == ReportStatus.GENERATED and report.indicators["reviews"]["count"] == 2
    reader, text = _pdf_text(report)
    # Cover; audience with its two charts; reviews, ROI and the comments.
    assert len(reader.pages) == 3
    for page in reader.pages:
        assert tuple(round(float(side)) for side in page.mediabox[2:]) == A4
    pages = [page.extract_text().lower() for page in reader.pages]
    assert "rapport mensuel" in pages[0] and "votre image en ligne" in pages[0]
    assert "audience et activité" in pages[1] and "clics vers le site 7" in pages[1]
    for expected in (
        "retour sur investissement",
        "750,00 €",
        "250,00 €",
        "3,75",
        "un très bon mois.",
    ):
        assert expected in pages[2], expected
    for number, page in enumerate(pages, start=1):
        assert f"{number} / 3" in page
    # The charts are vector: their text (month labels, only drawn in the charts) is in the PDF
    # as text, and the document holds no bitmap at all.
    with translation.override("fr"):
        first_label = formats.date_format(add_months(month, -12), "M Y")
    assert text.count(first_label) == 2, first_label  # followers and reach
    assert _raster_images(reader) == []


def test_an_english_client_gets_an_english_report(figures_data, month):
    figures_data.language = "en"
    figures_data.save()
    [report] = services.month_drafts_create(month=month)

    report = services.report_generate(report=report)

    _reader, text = _pdf_text(report)
    text = text.lower()
    assert (
        "monthly report" in text and "your online image" in text and "rapport mensuel" not in text
    )


def test_a_month_without_data_fails_visibly_and_keeps_the_comments(
    bistro, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>À garder</p>", recipients=""
    )

    report = services.report_generate(report=report, by=community_manager)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.NO_DATA
    assert "Aucune donnée" in report.error_message
    assert report.comments == "<p>À garder</p>" and not report.pdf


def test_comments_keep_formatting_and_lose_anything_that_runs(bistro, month, community_manager):
    [report] = services.month_drafts_create(month=month)
    dirty = (
        '<p onclick="steal()">Bon <em>mois</em></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><a href="https://example.com">lien</a>'
        '<img src=x onerror="alert(1)"><iframe src="https://evil.example"></iframe>'
    )

    services.report_save(report=report, by=community_manager, comments=dirty, recipients="")

    report.refresh_from_db()
    assert "<em>mois</em>" in report.comments and 'href="https://example.com"' in report.comments
    for bad in ("script", "onclick", "javascript", "onerror", "<img", "iframe"):
        assert bad not in report.comments


def test_a_bad_recipient_is_named_and_nothing_is_lost(client, bistro, month, community_manager):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    response = client.post(
        reverse("monthly_detail", args=[report.pk]),
        {"comments": "<p>Mes commentaires</p>", "recipients": "ok@example.com\npas-une-adresse", "action": "save"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "pas-une-adresse" in response.content.decode()
    assert "Mes commentaires" in response.content.decode()


# --- Sending ---------------------------------------------------------------------------------------


def test_sending_mails_the_pdf_and_records_it(figures_data, month, community_manager):
    [report] = services.month_drafts_create(month=month)
    report = services.report_generate(report=report, by=community_manager)

    report = services.report_send(report=report, by=community_manager)

    assert report.status == ReportStatus.SENT and report.times_sent == 1
    assert report.sent_to == "paul@bistro.example"
    assert report.sent_on_time is (timezone.localdate() <= report.deadline)
    [message] = mail.outbox
    assert message.to == ["paul@bistro.example"] and "rapport mensuel" in message.subject
    [(name, content, mimetype)] = message.attachments
    assert name == report.filename and mimetype == "application/pdf" and content[:5] == b"%PDF-"
    assert Activity.objects.filter(restaurant=figures_data, origin="monthly_report").count() == 1

    services.report_send(report=report, by=community_manager, again=True)
    report.refresh_from_db()
    assert report.times_sent == 2 and len(mail.outbox) == 2


FRENCH_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"]  # fmt: skip


def test_an_english_client_gets_the_report_e_mail_in_english(
    figures_data, month, community_manager
):
    figures_data.language = "en"
    figures_data.save()
    community_manager.first_name, community_manager.last_name = "Julie", "Petit"
    community_manager.save()
    [report] = services.month_drafts_create(month=month)
    report = services.report_generate(report=report, by=community_manager)

    services.report_send(report=report, by=community_manager)

    [message] = mail.outbox
    label = f"{calendar.month_name[month.month]} {month.year}"
    assert message.subject == f"Le Bistro: your monthly report for {label}"
    assert message.body == (
        f"Hello,\n\nPlease find attached the monthly report of Le Bistro for {label}: your "
        "audience, your reviews, your posts and what they brought you.\n\nWe are happy to talk "
        "it through with you.\n\nJulie Petit\nComAdvisor\n"
    )
    assert message.attachments[0][0] == report.filename


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_reports_due_e_mail_writes_its_dates_in_the_managers_language(
    bistro, month, community_manager, language, django_capture_on_commit_callbacks
):
    community_manager.email, community_manager.language = "cm@example.com", language
    community_manager.save()

    with django_capture_on_commit_callbacks(execute=True):
        [report] = services.month_drafts_create(month=month)

    [message] = mail.outbox
    deadline = report.deadline
    if language == "fr":
        label = f"{FRENCH_MONTHS[month.month - 1]} {month.year}"
        due = f"{deadline.day} {FRENCH_MONTHS[deadline.month - 1]} {deadline.year}"
        assert message.subject == f"1 rapport(s) mensuel(s) {label} à envoyer avant le {due}"
        assert f"Les rapports mensuels de {label} sont prêts" in message.body
    else:
        label = f"{calendar.month_name[month.month]} {month.year}"
        with translation.override("en"):
            due = formats.date_format(deadline, "DATE_FORMAT")
        assert due.endswith(f" {deadline.day}, {deadline.year}")
        assert message.subject == f"1 monthly report(s) for {label} due by {due}"
        assert f"The monthly reports for {label} are ready" in message.body
    assert f"{month:%m/%Y}" not in message.subject + message.body
    assert "- Le Bistro\n" in message.body


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_an_smtp_failure_leaves_the_report_failed_with_the_reason(
    figures_data, month, community_manager, settings
):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report,
        by=community_manager,
        comments="<p>Gardé</p>",
        recipients="paul@bistro.example",
    )
    report = services.report_generate(report=report, by=community_manager)
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"

    report = services.report_send(report=report, by=community_manager)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.SMTP
    assert "Connection unexpectedly closed" in report.error_message
    assert report.pdf and report.comments == "<p>Gardé</p>" and report.sent_at is None
    assert not Activity.objects.filter(origin="monthly_report").exists()


def test_a_sent_report_never_changes_regenerating_makes_a_new_version(
    figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>v1</p>", recipients="paul@bistro.example"
    )
    report = services.report_send(
        report=services.report_generate(report=report), by=community_manager
    )
    first_pdf = report.pdf.name

    with pytest.raises(services.ValidationError):
        services.report_save(
            report=report, by=community_manager, comments="<p>autre</p>", recipients=""
        )
    second = services.report_generate(report=report, by=community_manager)

    report.refresh_from_db()
    assert (
        report.status == ReportStatus.SENT
        and report.pdf.name == first_pdf
        and report.comments == "<p>v1</p>"
    )
    assert second.pk != report.pk and second.version == 2 and second.previous == report
    assert second.status == ReportStatus.GENERATED and second.comments == "<p>v1</p>"
    assert list(MonthlyReport.objects.current()) == [second]


# --- Pages -----------------------------------------------------------------------------------------


def test_another_community_managers_report_answers_404(
    client, figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>Mien</p>",
        recipients="paul@bistro.example",
    )  # fmt: skip
    report = services.report_generate(report=report, by=community_manager)
    batch = services.batch_start(user=community_manager)  # its task is not run
    pages = ("monthly_detail", "monthly_preview", "monthly_pdf")
    client.force_login(community_manager)
    for name in pages:
        assert client.get(reverse(name, args=[report.pk])).status_code == 200, name
    assert client.get(reverse("monthly_batch", args=[batch.pk])).status_code == 200
    other = UserFactory(username="other_cm", roles=["community_manager"])
    client.force_login(other)

    for name in pages:
        assert client.get(reverse(name, args=[report.pk])).status_code == 404, name
    url = reverse("monthly_detail", args=[report.pk])
    for action in ("save", "generate", "send"):
        data = {"comments": "<p>Autre</p>", "recipients": "x@example.com", "action": action}
        assert client.post(url, data).status_code == 404, action
    assert client.get(reverse("monthly_batch", args=[batch.pk])).status_code == 404
    assert list(client.get(reverse("monthly_list")).context["page"]) == []
    report.refresh_from_db()
    assert (report.comments, report.recipients) == ("<p>Mien</p>", "paul@bistro.example")
    assert report.status == ReportStatus.GENERATED and mail.outbox == []


def test_editor_writes_comments_generates_and_sends(client, figures_data, month, community_manager):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)
    url = reverse("monthly_detail", args=[report.pk])
    data = {"comments": "<p>Très bon mois</p>", "recipients": "paul@bistro.example"}

    page = client.get(url)
    client.post(url, {**data, "action": "generate"})
    client.post(url, {**data, "action": "send"})

    assert page.status_code == 200 and page.context["live"] is True
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT and report.comments == "<p>Très bon mois</p>"
    preview = client.get(reverse("monthly_preview", args=[report.pk]))
    assert "Très bon mois" in preview.content.decode()
    download = client.get(reverse("monthly_pdf", args=[report.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content)[:5] == b"%PDF-"


@pytest.mark.parametrize("count", [1, 25])
def test_the_list_runs_a_constant_number_of_queries(
    client, community_manager, month, count, django_assert_max_num_queries
):
    for number in range(count):
        restaurant = RestaurantFactory(
            name=f"R{number}", client=True, community_manager=community_manager
        )
        MonthlyReport.objects.create(restaurant=restaurant, month=month, deadline=month)
    client.force_login(community_manager)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("monthly_list"), {"due": "1"})

    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [1, 6])
def test_the_editor_and_the_preview_run_a_constant_number_of_queries(
    client, figures_data, month, community_manager, count, django_assert_max_num_queries
):
    [report] = services.month_drafts_create(month=month)
    facebook = SocialAccount.objects.get(restaurant=figures_data, network="facebook")
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=facebook, metric="views", day=day, value=3)
        for start in (month, add_months(month, -1), add_months(month, -12))
        for day in (start + dt.timedelta(days=offset) for offset in range(count * 4))
    )
    # `count` versions: the earlier ones sent, the editor on the latest.
    for _number in range(count - 1):
        now = timezone.now()
        MonthlyReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.SENT, first_sent_at=now, sent_at=now
        )
        report = MonthlyReport.objects.create(
            restaurant=figures_data, month=month, version=report.version + 1, previous=report,
            deadline=report.deadline,
        )  # fmt: skip
    client.force_login(community_manager)
    SiteSettings.load()  # made by the first page of all, not counted here

    with django_assert_max_num_queries(34):
        editor = client.get(reverse("monthly_detail", args=[report.pk]))
    with django_assert_max_num_queries(29):
        preview = client.get(reverse("monthly_preview", args=[report.pk]))

    assert editor.status_code == 200 and preview.status_code == 200
    assert len(editor.context["versions"]) == count
    views = next(row for row in editor.context["figures"]["metrics"] if row["key"] == "views")
    assert (views["value"], views["previous"], views["last_year"]) == (12 * count,) * 3


def _finished_batch(user, reports, outcomes):
    batch = ReportBatch.objects.create(
        user=user, total=len(reports), done=outcomes.count("sent"),
        failed=outcomes.count("failed"), finished_at=timezone.now(),
    )  # fmt: skip
    ReportBatchItem.objects.bulk_create(
        ReportBatchItem(
            batch=batch,
            report=report,
            outcome=outcome,
            finished_at=timezone.now(),
            error_kind=ReportError.NO_DATA if outcome == "failed" else "",
        )
        for report, outcome in zip(reports, outcomes, strict=True)
    )
    return batch


def _due_reports(count, month, community_manager):
    return [
        MonthlyReport.objects.create(
            restaurant=RestaurantFactory(
                name=f"R{number:02d}", client=True, community_manager=community_manager
            ),
            month=month,
            deadline=month,
        )
        for number in range(count)
    ]


@pytest.mark.parametrize("count", [1, 30])
def test_the_batch_page_runs_a_constant_number_of_queries(
    client, community_manager, month, count, django_assert_max_num_queries
):
    reports = _due_reports(count, month, community_manager)
    outcomes = ["failed" if number % 3 == 0 else "sent" for number in range(count)]
    batch = _finished_batch(community_manager, reports, outcomes)
    client.force_login(community_manager)
    SiteSettings.load()  # made by the first page of all, not counted here

    with django_assert_max_num_queries(8):
        page = client.get(reverse("monthly_batch", args=[batch.pk]))
    with django_assert_max_num_queries(8):
        partial = client.get(
            reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"}
        )

    assert page.status_code == 200 and partial.status_code == 200
    assert len(page.context["page"]) == count
    assert partial.content.decode().count('data-outcome="') == count


def test_the_batch_page_lists_its_reports_by_pages_of_fifty_failed_ones_first(
    client, community_manager, month
):
    reports = _due_reports(52, month, community_manager)
    outcomes = ["sent"] * 50 + ["failed"] * 2
    batch = _finished_batch(community_manager, reports, outcomes)
    client.force_login(community_manager)
    url = reverse("monthly_batch", args=[batch.pk])

    first = client.get(url)
    second = client.get(url, {"page": "2"})

    assert [item.report.restaurant.name for item in first.context["page"]] == [
        "R50", "R51", *(f"R{number:02d}" for number in range(48)),
    ]  # fmt: skip
    assert [item.report.restaurant.name for item in second.context["page"]] == ["R48", "R49"]
    assert first.context["page"].paginator.count == 52
    assert 'href="?page=2"' in first.content.decode()


def test_generating_and_sending_all_due_reports_shows_its_progress(
    client, figures_data, month, community_manager, eager, django_capture_on_commit_callbacks
):
    services.month_drafts_create(month=month)
    empty = RestaurantFactory(name="Vide", client=True, community_manager=community_manager)
    MonthlyReport.objects.create(
        restaurant=empty, month=month, deadline=month, recipients="a@example.com"
    )
    client.force_login(community_manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monthly_batch_start"))

    batch = ReportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "monthly_batch", args=[batch.pk]
    )
    batch.refresh_from_db()
    assert (batch.total, batch.done, batch.failed, batch.percent) == (2, 1, 1, 100)
    page = client.get(reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"})
    body = page.content.decode()
    assert 'value="100"' in body and "Vide" in body and "hx-get" not in body
    assert len(mail.outbox) == 1


def test_a_batch_under_way_shows_its_share_and_keeps_polling(
    client, figures_data, month, community_manager
):
    services.month_drafts_create(month=month)
    for name in ("Au Port", "Chez Zoé"):
        MonthlyReport.objects.create(
            restaurant=RestaurantFactory(
                name=name, client=True, community_manager=community_manager
            ),
            month=month, deadline=month, recipients="a@example.com",
        )  # fmt: skip
    batch = services.batch_start(user=community_manager)  # its task is not run
    # The task handles one report after the other and recounts after each: stop after one.
    item = batch.items.get(report__restaurant=figures_data)
    services._batch_item_run(batch, item)
    services._batch_count(batch)
    client.force_login(community_manager)

    page = client.get(reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"})

    batch.refresh_from_db()
    assert (batch.total, batch.done, batch.failed, batch.percent) == (3, 1, 0, 33)
    assert batch.finished_at is None and len(mail.outbox) == 1
    body = page.content.decode()
    assert page.status_code == 200 and 'value="33"' in body
    assert f'hx-get="{reverse("monthly_batch", args=[batch.pk])}"' in body
    with translation.override("fr"):
        expected = gettext("%(done)s sent, %(failed)s failed, of %(total)s.") % {
            "done": 1, "failed": 0, "total": 3,
        }  # fmt: skip
        finished = gettext("Finished.")
    assert expected in body and finished not in body


def test_reports_due_and_sent_on_time_for_the_dashboards(community_manager, month):
    from reports.monthly_selectors import reports_due, reports_on_time

    deadline = add_months(month, 1).replace(day=10)
    sent_at = timezone.make_aware(dt.datetime.combine(deadline, dt.time(18)))
    late_at = sent_at + dt.timedelta(days=1)
    made = {}
    for name in ("a", "b", "c", "d"):
        restaurant = RestaurantFactory(name=name, client=True, community_manager=community_manager)
        made[name] = MonthlyReport.objects.create(
            restaurant=restaurant, month=month, deadline=deadline
        )

    def sent(name, first, last=None):
        MonthlyReport.objects.filter(pk=made[name].pk).update(
            status=ReportStatus.SENT, first_sent_at=first, sent_at=last or first
        )

    sent("a", sent_at)
    sent("b", late_at)
    # c: its first version went out on time, a second version later.
    sent("c", sent_at)
    MonthlyReport.objects.create(
        restaurant=made["c"].restaurant, month=month, version=2, previous=made["c"],
        deadline=deadline, status=ReportStatus.SENT, first_sent_at=late_at, sent_at=late_at,
    )  # fmt: skip
    # e: sent on time, sent again after the deadline: still on time.
    made["e"] = MonthlyReport.objects.create(
        restaurant=RestaurantFactory(name="e", client=True), month=month, deadline=deadline
    )
    sent("e", sent_at, late_at)

    on_time = reports_on_time(month=month)
    due = reports_due(user=community_manager)

    assert (on_time.total, on_time.sent, on_time.on_time, on_time.share) == (5, 4, 3, 60.0)
    assert due.count == 1 and [report.restaurant.name for report in due.reports] == ["d"]
    assert due.late == (1 if timezone.localdate() > deadline else 0)


def test_dashboards_show_reports_due_and_sent_on_time(
    client, bistro, month, community_manager, direction
):
    [report] = services.month_drafts_create(month=month)

    client.force_login(community_manager)
    mine = client.get(reverse("dashboard"))
    client.force_login(direction)
    overview = client.get(reverse("dashboard"))

    assert mine.context["reports_due"].reports == [report]
    assert f'href="{reverse("monthly_detail", args=[report.pk])}"' in mine.content.decode()
    on_time = overview.context["direction"]["reports_on_time"]
    assert (on_time.total, on_time.sent) == (1, 0)
    assert f"month={month:%Y-%m}" in overview.context["direction"]["reports_url"]


def test_sending_a_report_refreshes_the_cached_reports_sent_on_time(
    client, figures_data, month, community_manager, direction
):
    from django.core.cache import cache

    from reports import dashboard_cache
    from reports.dashboard_cache import FigureCache

    dashboard_cache.bump_all()
    [report] = services.month_drafts_create(month=month)
    MonthlyReport.objects.filter(pk=report.pk).update(deadline=timezone.localdate())
    report = services.report_generate(report=report, by=community_manager)
    client.force_login(direction)

    def on_time():
        figure = client.get(reverse("dashboard")).context["direction"]["reports_on_time"]
        return (figure.total, figure.sent, figure.on_time)

    assert on_time() == (1, 0, 0)
    # Warm: the page stored it, and serves it stored while nothing changes.
    stored = cache.get(FigureCache(scope="all").key("reports_on_time"))
    assert (stored["value"].total, stored["value"].on_time) == (1, 0)
    assert on_time() == (1, 0, 0)

    # Sending writes with an UPDATE (no post_save): report_send replaces the topic's token.
    services.report_send(report=report, by=community_manager)

    assert on_time() == (1, 1, 1)


# --- Lifecycle: sent for good, claims, batches that end, stale PDFs ---------------------------------


def _sent_report(month, community_manager, comments="<p>v1</p>"):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments=comments, recipients="paul@bistro.example"
    )
    report = services.report_generate(report=report, by=community_manager)
    return services.report_send(report=report, by=community_manager)


def test_a_failed_resend_keeps_the_report_sent_unchanged_and_records_the_reason(
    figures_data, month, community_manager, settings
):
    report = _sent_report(month, community_manager)
    first_sent, sent_pdf, storage = report.first_sent_at, report.pdf.name, report.pdf.storage
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"

    report = services.report_send(report=report, by=community_manager, again=True)

    report.refresh_from_db()
    assert report.status == ReportStatus.SENT and report.is_sent
    assert (report.first_sent_at, report.times_sent) == (first_sent, 1)
    assert report.error_kind == ReportError.SMTP
    assert "Connection unexpectedly closed" in report.error_message
    # Still sent, so still read-only: editing is refused and generating makes a new version.
    with pytest.raises(services.ValidationError):
        services.report_save(
            report=report, by=community_manager, comments="<p>autre</p>", recipients=""
        )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    second = services.report_generate(report=report, by=community_manager)
    report.refresh_from_db()
    assert second.pk != report.pk and second.version == 2
    assert report.pdf.name == sent_pdf and storage.exists(sent_pdf)
    assert report.comments == "<p>v1</p>"


def test_a_second_click_on_send_sends_nothing_more(figures_data, month, community_manager):
    report = _sent_report(month, community_manager)

    with pytest.raises(services.ValidationError) as refused:
        services.report_send(report=report, by=community_manager)

    assert refused.value.code == "already_sent"
    assert len(mail.outbox) == 1
    report.refresh_from_db()
    assert report.times_sent == 1


def test_a_report_someone_else_holds_is_refused_until_the_claim_expires(
    figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    report = services.report_generate(report=report, by=community_manager)
    MonthlyReport.objects.filter(pk=report.pk).update(
        claim_token="other", claimed_until=timezone.now() + dt.timedelta(minutes=1)
    )

    with pytest.raises(services.ReportBusy):
        services.report_send(report=report, by=community_manager)
    assert mail.outbox == []

    # A holder that died leaves a claim that expires: the next one takes it over.
    MonthlyReport.objects.filter(pk=report.pk).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    report = services.report_send(report=report, by=community_manager)
    assert report.is_sent and len(mail.outbox) == 1
    assert (report.claim_token, report.claimed_until) == ("", None)


def test_a_redelivered_batch_goes_on_and_sends_each_report_once(
    figures_data, month, community_manager, client_manager, eager,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    other = RestaurantFactory(name="Au Port", client=True, community_manager=community_manager)
    sales_services.contract_sign(
        restaurant=other, by=client_manager, pack=Pack.objects.get(code="social"),
        start_date=add_months(month, -1),
    )  # fmt: skip
    ContactLink.objects.create(
        restaurant=other, role="owner",
        contact=Contact.objects.create(last_name="Roux", email="roux@port.example"),
    )  # fmt: skip
    MetricSnapshot.objects.create(
        account=make_account(other, "facebook"), metric="reach", day=month, value=5
    )
    services.month_drafts_create(month=month)
    batch = services.batch_start(user=community_manager)  # the task is not run yet
    # The first delivery sent Le Bistro, then its worker died before recording it.
    bistro_report = MonthlyReport.objects.get(restaurant=figures_data)
    services.report_send(
        report=services.report_generate(report=bistro_report), by=community_manager
    )

    services.batch_run(batch_id=batch.pk)
    again = services.batch_run(batch_id=batch.pk)  # delivered once more

    attached = [message.to for message in mail.outbox if message.attachments]
    assert sorted(attached) == [["paul@bistro.example"], ["roux@port.example"]]
    assert (again.total, again.done, again.failed, again.skipped) == (2, 2, 0, 0)
    assert again.finished_at is not None and again.error == ""
    assert sorted(MonthlyReport.objects.values_list("version", "times_sent")) == [(1, 1), (1, 1)]


def test_a_batch_skips_reports_sent_before_it_began(
    figures_data, month, community_manager, eager, django_capture_on_commit_callbacks
):
    services.month_drafts_create(month=month)
    batch = services.batch_start(user=community_manager)
    _report = MonthlyReport.objects.get()
    services.report_send(report=services.report_generate(report=_report), by=community_manager)
    MonthlyReport.objects.update(sent_at=batch.started_at - dt.timedelta(seconds=1))

    batch = services.batch_run(batch_id=batch.pk)

    assert (batch.done, batch.failed, batch.skipped, batch.percent) == (0, 0, 1, 100)
    assert len(mail.outbox) == 1


def test_a_double_click_on_start_shows_the_running_batch(figures_data, month, community_manager):
    services.month_drafts_create(month=month)

    first = services.batch_start(user=community_manager)
    second = services.batch_start(user=community_manager)

    assert second.pk == first.pk and ReportBatch.objects.count() == 1


def test_an_unexpected_error_fails_the_report_and_the_batch_still_ends(
    client, figures_data, month, community_manager, eager, django_capture_on_commit_callbacks,
    monkeypatch,
):  # fmt: skip
    services.month_drafts_create(month=month)

    def broken(**_kwargs):
        raise KeyError("followers")

    monkeypatch.setattr(services.report_indicators, "compute", broken)
    client.force_login(community_manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monthly_batch_start"))

    assert response.status_code == 302
    batch = ReportBatch.objects.get()
    assert batch.finished_at is not None and (batch.done, batch.failed) == (0, 1)
    report = MonthlyReport.objects.get()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.INDICATORS
    assert "followers" in report.error_message
    page = client.get(reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"})
    assert "hx-get" not in page.content.decode() and "followers" in page.content.decode()


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (RuntimeError("boom at line 12"), "unexpected", "an unexpected error occurred"),
        (
            OperationalError("server closed the connection unexpectedly"),
            "database",
            "the database could not be read or written",
        ),
    ],
)
def test_a_batch_that_stops_says_why_in_words_and_keeps_the_detail_for_the_administrators(
    client, figures_data, month, community_manager, admin_user, monkeypatch, caplog,
    error, kind, reason,
):  # fmt: skip
    services.month_drafts_create(month=month)
    batch = services.batch_start(user=community_manager)

    def crash(*_args):
        raise error

    monkeypatch.setattr(services, "_batch_item_run", crash)
    services.batch_run(batch_id=batch.pk)

    batch.refresh_from_db()
    detail = f"{error.__class__.__name__}: {error}"
    assert batch.finished_at is not None
    assert (batch.error_kind, batch.error) == (kind, detail)
    assert str(error) in caplog.text and "report batch" in caplog.text
    client.force_login(community_manager)
    body = client.get(
        reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "hx-get" not in body and 'data-testid="batch-error"' in body
    with translation.override("fr"):
        said = gettext(
            "The batch stopped before its end: %(reason)s. The reports not handled are still "
            "due; its details are kept for the administrators."
        ) % {"reason": gettext(reason)}
    shown = body.split('data-testid="batch-error">', 1)[1].split("</div>", 1)[0]
    assert html.unescape(shown) == said
    assert str(error) not in body and error.__class__.__name__ not in body
    client.force_login(admin_user)
    admin_list = client.get(reverse("admin:reports_reportbatch_changelist"))
    admin_page = client.get(reverse("admin:reports_reportbatch_change", args=[batch.pk]))
    assert admin_list.status_code == 200 and admin_page.status_code == 200
    assert str(error) in admin_list.content.decode()
    assert str(error) in admin_page.content.decode()


def test_a_batch_whose_task_vanished_is_shown_as_stopped(
    client, figures_data, month, community_manager
):
    services.month_drafts_create(month=month)
    batch = services.batch_start(user=community_manager)
    ReportBatch.objects.filter(pk=batch.pk).update(
        updated_at=timezone.now() - ReportBatch.STALLED_AFTER - dt.timedelta(minutes=1)
    )
    client.force_login(community_manager)

    body = client.get(
        reverse("monthly_batch", args=[batch.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert "hx-get" not in body and 'data-testid="batch-error"' in body
    # Starting again is possible: the stopped batch is not "running" any more.
    assert services.batch_start(user=community_manager).pk != batch.pk


def test_comments_changed_after_generating_make_the_pdf_stale_until_generated_again(
    client, figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>Premier</p>",
        recipients="paul@bistro.example",
    )  # fmt: skip
    report = services.report_generate(report=report, by=community_manager)
    # Saving the same comments (the form does it before each action) changes nothing.
    services.report_save(
        report=report, by=community_manager, comments="<p>Premier</p>",
        recipients="paul@bistro.example",
    )  # fmt: skip
    assert report.status == ReportStatus.GENERATED and report.pdf_is_current

    services.report_save(
        report=report, by=community_manager, comments="<p>Nouveau texte</p>",
        recipients="paul@bistro.example",
    )  # fmt: skip

    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.pdf_is_stale
    with pytest.raises(services.ValidationError) as refused:
        services.report_send(report=report, by=community_manager)
    assert refused.value.code == ReportError.STALE and mail.outbox == []
    client.force_login(community_manager)
    page = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()
    assert 'data-testid="report-stale"' in page and 'data-testid="report-send"' not in page

    report = services.report_send(
        report=services.report_generate(report=report, by=community_manager), by=community_manager
    )

    [message] = mail.outbox
    text = "\n".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(message.attachments[0][1])).pages
    )
    assert "Nouveau texte" in text and "Premier" not in text


def test_resending_after_the_deadline_keeps_the_report_on_time(
    figures_data, month, community_manager
):
    from reports.monthly_selectors import reports_on_time

    report = _sent_report(month, community_manager)
    earlier = timezone.now() - dt.timedelta(days=2)
    MonthlyReport.objects.filter(pk=report.pk).update(
        first_sent_at=earlier, sent_at=earlier, deadline=timezone.localdate() - dt.timedelta(days=1)
    )

    report = services.report_send(report=report, by=community_manager, again=True)

    assert report.first_sent_at == earlier and report.sent_at > earlier
    assert report.times_sent == 2 and report.sent_on_time is True
    on_time = reports_on_time(month=month)
    assert (on_time.sent, on_time.on_time) == (1, 1)


def test_a_broken_template_at_sending_is_recorded_on_the_report(
    client, figures_data, month, community_manager
):
    from comadvisor.models import EmailTemplate

    [report] = services.month_drafts_create(month=month)
    report = services.report_generate(report=report, by=community_manager)
    EmailTemplate.objects.filter(key="reports-monthly").update(body_fr="{% if %}")
    client.force_login(community_manager)

    response = client.post(
        reverse("monthly_detail", args=[report.pk]),
        {"comments": "", "recipients": "paul@bistro.example", "action": "send"},
        follow=True,
    )

    assert response.status_code == 200
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.TEMPLATE
    assert 'data-testid="report-error"' in response.content.decode()
    assert mail.outbox == []


def test_a_missing_pdf_file_is_explained_not_a_server_error(
    client, figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    report = services.report_generate(report=report, by=community_manager)
    report.pdf.storage.delete(report.pdf.name)
    client.force_login(community_manager)

    download = client.get(reverse("monthly_pdf", args=[report.pk]))
    report = services.report_send(report=report, by=community_manager)

    assert download.status_code == 302
    assert download["Location"] == reverse("monthly_detail", args=[report.pk])
    assert report.error_kind == ReportError.PDF_MISSING and mail.outbox == []


def test_another_community_manager_cannot_write_through_the_services(bistro, month):
    [report] = services.month_drafts_create(month=month)
    other = UserFactory(username="other_cm", roles=["community_manager"])

    for call in (
        lambda: services.report_save(report=report, by=other, comments="x", recipients=""),
        lambda: services.report_generate(report=report, by=other),
        lambda: services.report_send(report=report, by=other),
        lambda: services.report_new_version(report=report, by=other),
    ):
        with pytest.raises(services.PermissionDenied):
            call()
    report.refresh_from_db()
    assert report.comments == "" and report.status == ReportStatus.DRAFT


def test_the_admin_shows_reports_read_only_and_generates_through_the_service(
    client, admin_user, direction, figures_data, month, community_manager
):
    report = _sent_report(month, community_manager)
    url = reverse("admin:reports_monthlyreport_change", args=[report.pk])

    for user in (admin_user, direction):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "v1" in body and 'name="comments"' not in body and 'name="_save"' not in body
        changed = client.post(url, {"comments": "<script>x</script>", "status": "draft"})
        assert changed.status_code == 403
    assert client.get(reverse("admin:reports_monthlyreport_add")).status_code == 403

    client.post(
        reverse("admin:reports_monthlyreport_changelist"),
        {"action": "generate", "_selected_action": [report.pk]},
    )

    report.refresh_from_db()
    assert report.comments == "<p>v1</p>" and report.status == ReportStatus.SENT
    new = MonthlyReport.objects.get(previous=report)
    assert new.status == ReportStatus.GENERATED and new.version == 2


def test_the_list_is_paginated_by_fifty(client, community_manager, month):
    for number in range(51):
        restaurant = RestaurantFactory(
            name=f"R{number:02d}", client=True, community_manager=community_manager
        )
        MonthlyReport.objects.create(restaurant=restaurant, month=month, deadline=month)
    client.force_login(community_manager)

    first = client.get(reverse("monthly_list"), {"due": "1"})
    second = client.get(reverse("monthly_list"), {"due": "1", "page": "2"})

    assert [r.restaurant.name for r in first.context["page"]] == [f"R{n:02d}" for n in range(50)]
    assert [r.restaurant.name for r in second.context["page"]] == ["R50"]
    assert first.context["page"].paginator.count == 51
    assert "due=1&amp;page=2" in first.content.decode()


def test_the_editor_shows_each_figure_with_the_previous_month_and_last_year(
    client, figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    body = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()

    table = body.split('data-testid="report-indicators"', 1)[1].split("</table>", 1)[0]
    cells = lambda testid: re.findall(  # noqa: E731
        r"<td[^>]*>(.*?)</td>", table.split(f'data-testid="{testid}"', 1)[1].split("</tr>", 1)[0]
    )
    assert cells("roi-value") == ["750,00 €", "250,00 €", "200,00 €"]
    assert cells("roi-ratio") == ["3,75", "—", "—"]
    assert "Clics vers le site" in table and "Nouveaux abonnés" in table


def test_the_editor_shows_the_roi_with_its_inputs_and_the_median_response_time(
    client, figures_data, month, community_manager
):
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    body = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()

    def cells(testid):
        row = body.split(f'data-testid="{testid}"', 1)[1].split("</tr>", 1)[0]
        return [
            re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]

    # The median of the month's answers (3 h and 30 h), the month before (2 h), none a year ago.
    assert cells("median-response") == ["16,5 h", "2,0 h", "—"]
    # Each action: how many, the guests each brings, the guests and their value at 25 EUR.
    assert cells("roi-bookings") == ["10", "2,5", "25", "625,00 €"]
    assert cells("roi-food_orders") == ["0", "1,5", "0", "0,00 €"]
    assert cells("roi-calls") == ["5", "0,3 \u00d7 2 = 0,6", "3", "75,00 €"]
    assert cells("roi-directions") == ["5", "0,2 \u00d7 2 = 0,4", "2", "50,00 €"]
    assert cells("roi-guests") == ["30"]
    with translation.override("fr"):
        default = gettext("default")
    assert cells("roi-ticket") == [f"25,00 € ({default})"]
    assert cells("roi-total") == ["750,00 €"] and cells("roi-price") == ["200,00 €"]
    assert cells("roi-per-euro") == ["3,75"]
    formula = body.split('data-testid="roi-formula">', 1)[1].split("</p>", 1)[0]
    with translation.override("fr"):
        expected = gettext(
            "%(guests)s guests \u00d7 %(ticket)s € = %(value)s € brought; %(value)s € ÷ %(price)s € "
            "a month = %(ratio)s per euro paid."
        ) % {
            "guests": "30",
            "ticket": "25,00",
            "value": "750,00",
            "price": "200,00",
            "ratio": "3,75",
        }
    assert formula == expected


def test_the_editor_says_when_no_contract_gives_the_roi_a_price(
    client, figures_data, month, community_manager
):
    from sales.models import Contract

    Contract.objects.filter(restaurant=figures_data).update(start_date=month + dt.timedelta(days=1))
    [report] = services.month_drafts_create(month=month)
    client.force_login(community_manager)

    body = client.get(reverse("monthly_detail", args=[report.pk])).content.decode()

    price = body.split('data-testid="roi-price"', 1)[1].split("</tr>", 1)[0]
    formula = body.split('data-testid="roi-formula">', 1)[1].split("</p>", 1)[0]
    with translation.override("fr"):
        assert gettext("no contract in force") in price
        assert formula == gettext(
            "%(guests)s guests \u00d7 %(ticket)s € = %(value)s € brought; no contract in force on the "
            "month's first day, so no value per euro paid."
        ) % {"guests": "30", "ticket": "25,00", "value": "750,00"}


def test_a_pdf_that_cannot_be_made_fails_the_report_with_the_reason(
    figures_data, month, community_manager, monkeypatch
):
    from reports.pdf import PdfUnavailable

    def unavailable(*_args, **_kwargs):
        raise PdfUnavailable("Pango manque")

    monkeypatch.setattr(services, "render_pdf", unavailable)
    [report] = services.month_drafts_create(month=month)
    services.report_save(
        report=report, by=community_manager, comments="<p>Gardé</p>", recipients=""
    )

    report = services.report_generate(report=report, by=community_manager)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error_kind == ReportError.PDF
    assert report.error == "Pango manque" and "Pango manque" in report.error_message
    assert report.comments == "<p>Gardé</p>" and not report.pdf
    # Worded when shown, in the reader's language, from the stored kind and detail.
    with translation.override("fr"):
        assert report.error_message.startswith("Le PDF n'a pas pu être créé")
    with translation.override("en"):
        assert report.error_message == "The PDF could not be made: Pango manque"


def test_figures_that_cannot_be_computed_are_said_not_a_server_error(
    client, bistro, month, community_manager, monkeypatch
):
    [report] = services.month_drafts_create(month=month)

    def broken(**_kwargs):
        raise ValueError("bad snapshot")

    monkeypatch.setattr(indicators, "compute", broken)
    client.force_login(community_manager)

    page = client.get(reverse("monthly_detail", args=[report.pk]))
    preview = client.get(reverse("monthly_preview", args=[report.pk]))

    assert page.status_code == 200 and 'data-testid="figures-unavailable"' in page.content.decode()
    assert preview.status_code == 302


def test_the_month_end_job_survives_a_mail_server_down(
    bistro, month, community_manager, settings, django_capture_on_commit_callbacks
):
    community_manager.email = "cm@example.com"
    community_manager.save()
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"

    with django_capture_on_commit_callbacks(execute=True):
        created = services.month_drafts_create(month=month)

    assert [report.restaurant for report in created] == [bistro]
    assert MonthlyReport.objects.count() == 1


def test_a_client_served_during_the_month_gets_its_draft_whatever_happened_since(
    month, client_manager, community_manager
):
    pack = Pack.objects.create(
        code="rapport", name="Rapport", monthly_price=200, networks=["facebook"],
        posts_per_month=4, monthly_report=True,
    )  # fmt: skip
    made = {}
    for name in ("ended mid-month", "suspended mid-month", "suspended all month", "ended before"):
        restaurant = RestaurantFactory(name=name, client=True, community_manager=community_manager)
        made[name] = sales_services.contract_sign(
            restaurant=restaurant, by=client_manager, pack=pack, start_date=add_months(month, -3)
        )
    middle = month + dt.timedelta(days=14)
    sales_services.contract_end(
        contract=made["ended mid-month"], by=client_manager, ended_at=middle, reason="Fermé"
    )
    sales_services.contract_suspend(
        contract=made["suspended mid-month"], by=client_manager, start_date=middle, reason="Travaux"
    )
    sales_services.contract_suspend(
        contract=made["suspended all month"], by=client_manager,
        start_date=month - dt.timedelta(days=3), reason="Travaux",
    )  # fmt: skip
    sales_services.contract_end(
        contract=made["ended before"], by=client_manager, ended_at=month - dt.timedelta(days=1),
        reason="Fermé",
    )  # fmt: skip

    created = services.month_drafts_create(month=month)

    assert sorted(report.restaurant.name for report in created) == [
        "ended mid-month",
        "suspended mid-month",
    ]
