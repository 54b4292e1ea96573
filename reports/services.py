"""Monthly client reports: month-end drafts, comments, generation, sending, versions, batches.

Every step leaves the report in a visible state: a failure records its reason on the report and
never touches the comments; a sent report is never changed (regenerating makes a new version).
"""

import datetime as dt
import logging
import smtplib

import nh3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from comadvisor.emails import email_send
from comadvisor.models import SiteSettings
from crm.enums import ContactRole
from crm.models import ContactLink, Restaurant
from crm.services import activity_record
from reports import dashboard_cache
from reports import indicators as report_indicators
from reports.document import document_context
from reports.models import MonthlyReport, ReportBatch, ReportStatus, deadline_for
from reports.pdf import PdfUnavailable, render_pdf
from sales.models import add_months, first_of_month
from sales.selectors import restaurants_with_service

logger = logging.getLogger(__name__)

# What the comments may hold: formatting, lists, links; nothing that runs or loads.
ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "h3", "h4",
                "blockquote"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
COMMENTS_MAX = 20_000


def sanitize_comments(html: str) -> str:
    cleaned = nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()
    return "" if cleaned in ("<p></p>", "<br>", "<p><br></p>") else cleaned


def _check_may(user: User | None, report: MonthlyReport) -> None:
    if user is not None and not user.has_perm("reports.manage_monthlyreport"):
        raise PermissionDenied


def default_recipients(restaurant: Restaurant) -> str:
    emails = (
        ContactLink.objects.filter(restaurant=restaurant, role=ContactRole.OWNER)
        .exclude(contact__email="")
        .order_by("contact__last_name")
        .values_list("contact__email", flat=True)
    )
    return "\n".join(dict.fromkeys(emails))


def parse_recipients(text: str) -> str:
    """One address per line, each checked; a clear error names the first bad one."""
    addresses = [
        part.strip() for part in (text or "").replace(",", "\n").replace(";", "\n").splitlines()
    ]
    addresses = [address for address in addresses if address]
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as error:
            raise ValidationError(
                {
                    "recipients": _("%(address)s is not a valid e-mail address.")
                    % {"address": address}
                }
            ) from error
    return "\n".join(dict.fromkeys(addresses))


# --- Month end -----------------------------------------------------------------------------------


def month_drafts_create(*, month: dt.date) -> list[MonthlyReport]:
    """A draft for every client whose contract includes the monthly report during `month` (on its
    first or last day); run twice, still one draft. The community managers are told once, for the
    drafts this call created."""
    month = first_of_month(month)
    last_day = add_months(month, 1) - dt.timedelta(days=1)
    ids = set(
        restaurants_with_service(service="monthly_report", day=month).values_list(
            "restaurant_id", flat=True
        )
    )
    ids |= set(
        restaurants_with_service(service="monthly_report", day=last_day).values_list(
            "restaurant_id", flat=True
        )
    )
    existing = set(
        MonthlyReport.objects.filter(month=month, restaurant_id__in=ids).values_list(
            "restaurant_id", flat=True
        )
    )
    deadline = deadline_for(month)
    created: list[MonthlyReport] = []
    for restaurant in Restaurant.objects.filter(pk__in=ids - existing).select_related(
        "community_manager"
    ):
        try:
            with transaction.atomic():
                report = MonthlyReport.objects.create(
                    restaurant=restaurant,
                    month=month,
                    deadline=deadline,
                    language=restaurant.language,
                    recipients=default_recipients(restaurant),
                )
        except IntegrityError:
            continue  # another run created it meanwhile
        created.append(report)
    _remind_community_managers(created, month=month, deadline=deadline)
    return created


def _remind_community_managers(
    reports: list[MonthlyReport], *, month: dt.date, deadline: dt.date
) -> None:
    by_manager: dict[User, list[MonthlyReport]] = {}
    for report in reports:
        manager = report.restaurant.community_manager
        if manager is not None and manager.email:
            by_manager.setdefault(manager, []).append(report)
    url = f"{settings.SITE_URL}{reverse('monthly_list')}?due=1"
    for manager, due in by_manager.items():
        context = {
            "first_name": manager.first_name or manager.username,
            "month": f"{month:%m/%Y}",
            "deadline": f"{deadline:%d/%m/%Y}",
            "count": len(due),
            "reports": [{"name": report.restaurant.name} for report in due],
            "url": url,
        }
        transaction.on_commit(
            lambda manager=manager, context=context: email_send(
                key="reports-due", to=[manager.email], language=manager.language, context=context
            )
        )


# --- Editing -------------------------------------------------------------------------------------


def report_save(
    *, report: MonthlyReport, by: User, comments: str, recipients: str
) -> MonthlyReport:
    _check_may(by, report)
    if report.is_sent:
        raise ValidationError(
            _("This report was sent: it cannot change. Make a new version to edit it.")
        )
    comments = sanitize_comments(comments)
    if len(comments) > COMMENTS_MAX:
        raise ValidationError({"comments": _("The comments are too long.")})
    report.recipients = parse_recipients(recipients)
    report.comments = comments
    report.comments_updated_at = timezone.now()
    report.comments_updated_by = by
    report.save(
        update_fields=["recipients", "comments", "comments_updated_at", "comments_updated_by"]
    )
    return report


def report_new_version(*, report: MonthlyReport, by: User | None) -> MonthlyReport:
    """A new draft of a sent report's month, with its comments and recipients."""
    _check_may(by, report)
    if not report.is_sent:
        return report
    if hasattr(report, "superseded_by"):
        return report.superseded_by
    return MonthlyReport.objects.create(
        restaurant=report.restaurant,
        month=report.month,
        version=report.version + 1,
        previous=report,
        deadline=report.deadline,
        language=report.language,
        comments=report.comments,
        comments_updated_at=report.comments_updated_at,
        comments_updated_by=report.comments_updated_by,
        recipients=report.recipients,
    )


def _fail(report: MonthlyReport, message: str) -> None:
    report.status = ReportStatus.FAILED
    report.error = message[:500]
    report.error_at = timezone.now()
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=report.status, error=report.error, error_at=report.error_at
    )


# --- Generating ----------------------------------------------------------------------------------


def report_generate(*, report: MonthlyReport, by: User | None = None) -> MonthlyReport:
    """Freeze the month's indicators and render the PDF. A sent report gets a new version first.
    Missing data or a rendering failure leaves the report failed with the reason."""
    _check_may(by, report)
    if report.is_sent:
        report = report_new_version(report=report, by=by)
    figures = report_indicators.compute(
        restaurant=report.restaurant, month=report.month, language=report.language
    )
    if not figures["metrics"] and not figures["reviews"]["count"] and not figures["posts"]["value"]:
        _fail(report, _("No data for this month: no statistics, reviews or posts were fetched."))
        return report
    try:
        with translation.override(report.language):
            pdf = render_pdf("reports/pdf/monthly_report.html", document_context(report, figures))
    except (PdfUnavailable, OSError, ValueError) as error:
        logger.exception("monthly report %s: PDF rendering failed", report.pk)
        _fail(report, _("The PDF could not be made: %(error)s") % {"error": error})
        return report
    old_file = report.pdf.name if report.pdf else ""
    report.indicators = figures
    report.pdf.save(report.filename, ContentFile(pdf), save=False)
    report.generated_at = timezone.now()
    report.status = ReportStatus.GENERATED
    report.error = ""
    report.error_at = None
    report.save(update_fields=["indicators", "pdf", "generated_at", "status", "error", "error_at"])
    if old_file and old_file != report.pdf.name:
        report.pdf.storage.delete(old_file)
    return report


# --- Sending -------------------------------------------------------------------------------------


def report_send(*, report: MonthlyReport, by: User | None = None) -> MonthlyReport:
    """E-mail the generated PDF to the recipients (again, for a sent report: a resend). An SMTP
    failure leaves the report failed with the reason; the PDF and comments stay."""
    _check_may(by, report)
    if not report.pdf or report.generated_at is None:
        raise ValidationError(_("Generate the report before sending it."))
    recipients = report.recipient_list
    if not recipients:
        raise ValidationError({"recipients": _("Add at least one recipient.")})
    context = {
        "restaurant": report.restaurant.name,
        "month": f"{report.month:%m/%Y}",
        "sender": (by.get_full_name() or by.username) if by else "",
        "company": SiteSettings.load().company_name,
    }
    try:
        with report.pdf.open("rb") as handle:
            content = handle.read()
        email_send(
            key="reports-monthly",
            to=recipients,
            context=context,
            language=report.language,
            attachments=[(report.filename, content, "application/pdf")],
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("monthly report %s: sending failed: %s", report.pk, error)
        _fail(report, _("Sending failed: %(error)s") % {"error": error})
        return report
    now = timezone.now()
    with transaction.atomic():
        MonthlyReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.SENT,
            sent_at=now,
            sent_to="\n".join(recipients),
            sent_by=by,
            times_sent=F("times_sent") + 1,
            error="",
            error_at=None,
        )
        activity_record(
            restaurant=report.restaurant,
            by=by,
            subject=_("Monthly report %(month)s sent") % {"month": f"{report.month:%m/%Y}"},
            body=_("Sent to %(recipients)s.") % {"recipients": ", ".join(recipients)},
            origin="monthly_report",
        )
        dashboard_cache.bump("reports")
        transaction.on_commit(lambda: dashboard_cache.bump("reports"))
    report.refresh_from_db()
    return report


# --- Batches -------------------------------------------------------------------------------------


def due_reports(*, user: User):
    """The current versions not yet sent, of the restaurants `user` is community manager of."""
    return (
        MonthlyReport.objects.visible_to(user)
        .current()
        .exclude(status=ReportStatus.SENT)
        .filter(restaurant__community_manager=user)
    )


def batch_start(*, user: User) -> ReportBatch:
    if not user.has_perm("reports.manage_monthlyreport"):
        raise PermissionDenied
    reports = list(due_reports(user=user).values_list("pk", flat=True))
    if not reports:
        raise ValidationError(_("No report is due."))
    batch = ReportBatch.objects.create(user=user, total=len(reports))
    batch.reports.set(reports)
    from reports import tasks

    transaction.on_commit(lambda: tasks.run_report_batch.delay(batch.pk))
    return batch


def batch_run(*, batch_id: int) -> ReportBatch:
    """Generate (when needed) and send each report of the batch, counting as it goes."""
    batch = ReportBatch.objects.select_related("user").get(pk=batch_id)
    for report in batch.reports.select_related("restaurant").order_by("restaurant__name"):
        ok = False
        try:
            if report.status != ReportStatus.GENERATED:
                report = report_generate(report=report, by=batch.user)
            if report.status == ReportStatus.GENERATED:
                report = report_send(report=report, by=batch.user)
            ok = report.status == ReportStatus.SENT
        except ValidationError as error:
            _fail(report, " ".join(error.messages))
        counter = "done" if ok else "failed"
        ReportBatch.objects.filter(pk=batch.pk).update(**{counter: F(counter) + 1})
    ReportBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    batch.refresh_from_db()
    return batch
