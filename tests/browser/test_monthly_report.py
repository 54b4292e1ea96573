import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from crm.models import Contact, ContactLink
from reports import services
from reports.models import MonthlyReport, ReportStatus
from sales.models import add_months, first_of_month
from social.models import MetricSnapshot
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.social.conftest import make_account, make_bistro

pytestmark = pytest.mark.django_db(transaction=True)


def test_community_manager_comments_generates_and_sends_a_report(
    page, live_server, community_manager, review_manager, client_manager
):
    bistro = make_bistro(
        community_manager=community_manager,
        review_manager=review_manager,
        client_manager=client_manager,
    )
    owner = Contact.objects.create(last_name="Martin", email="paul@bistro.example")
    ContactLink.objects.create(restaurant=bistro, contact=owner, role="owner")
    month = add_months(first_of_month(timezone.localdate()), -1)
    facebook = make_account(bistro, "facebook")
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(account=facebook, metric=metric, day=month + dt.timedelta(days=day), value=100 + day)
        for day in range(28)
        for metric in ("followers", "reach")
    )  # fmt: skip
    [report] = services.month_drafts_create(month=month)
    login(page, community_manager.username, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/reports/monthly/?due=1")
    with page.expect_navigation():
        page.get_by_role("link", name="Le Bistro").click()
    editor = page.locator("[data-testid=comments-editor]")
    editor.click()
    page.keyboard.type("Très bon mois, ")
    page.locator(".rich-toolbar [data-command=bold]").click()
    page.keyboard.type("bravo")
    page.locator(".rich-toolbar [data-command=bold]").click()
    page.keyboard.type(", voir ")
    page.once("dialog", lambda dialog: dialog.accept("https://example.com/avis"))
    page.locator(".rich-toolbar [data-command=createLink]").click()
    with page.expect_navigation():
        page.locator("[data-testid=report-generate]").click()
    assert page.locator("[data-testid=report-status]").inner_text() == "Généré"
    # The editor sends the comments back with each action: unchanged, they leave the PDF current.
    with page.expect_navigation():
        page.locator("[data-testid=report-save]").click()
    assert page.locator("[data-testid=report-send]").count() == 1
    # Changed after generating, they make it out of date: no sending before generating again.
    editor = page.locator("[data-testid=comments-editor]")
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type(" Merci.")
    with page.expect_navigation():
        page.locator("[data-testid=report-save]").click()
    assert page.locator("[data-testid=report-stale]").is_visible()
    assert page.locator("[data-testid=report-send]").count() == 0
    with page.expect_navigation():
        page.locator("[data-testid=report-generate]").click()
    with page.expect_navigation():
        page.locator("[data-testid=report-send]").click()

    assert page.locator("[data-testid=report-status]").inner_text() == "Envoyé"
    report = MonthlyReport.objects.get(pk=report.pk)
    assert report.status == ReportStatus.SENT
    # The browser's bold is <b> or <strong>, both kept.
    assert "Très bon mois" in report.comments
    assert "<b>bravo</b>" in report.comments or "<strong>bravo</strong>" in report.comments
    assert 'href="https://example.com/avis"' in report.comments and "Merci." in report.comments
    assert report.pdf_is_current and report.times_sent == 1
    # The other message is the month-end reminder to the community manager.
    [message] = [message for message in mail.outbox if message.attachments]
    assert message.to == ["paul@bistro.example"] and message.attachments[0][2] == "application/pdf"
