"""Monthly client reports: month-end drafts, comments, generation, sending, versions, batches.

Every step leaves the report in a visible state: a failure records its reason on the report and
never touches the comments; a sent report is never changed (regenerating makes a new version).
"""

import datetime as dt
import logging
import smtplib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import nh3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from comadvisor.emails import email_send
from comadvisor.models import EmailTemplate, SiteSettings
from crm.enums import ContactRole
from crm.models import ContactLink, Restaurant
from crm.services import activity_record
from reports import dashboard_cache
from reports import indicators as report_indicators
from reports.document import document_context
from reports.models import (
    BatchOutcome,
    BatchStop,
    MonthlyReport,
    ReportBatch,
    ReportBatchItem,
    ReportError,
    ReportRecipients,
    ReportStatus,
    deadline_for,
)
from reports.monthly_selectors import restaurants_served
from reports.pdf import render_pdf
from sales.models import first_of_month

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
    """Permission, then scope: the report must be one the user sees (checked again here, not
    only by the view, so that no caller writes outside its scope). None is the system (the
    month-end job, the command)."""
    if user is None:
        return
    if not user.has_perm("reports.manage_monthlyreport"):
        raise PermissionDenied
    if not MonthlyReport.objects.visible_to(user).filter(pk=report.pk).exists():
        raise PermissionDenied


CLAIM_FOR = dt.timedelta(minutes=5)  # longer than a generation plus an SMTP exchange
BATCH_WAIT = CLAIM_FOR.total_seconds() + 5


class ReportBusy(ValidationError):
    """Another hand holds the report's claim."""


@contextmanager
def _claimed(report: MonthlyReport, *, wait: float = 0) -> Iterator[MonthlyReport]:
    """Hold the report's claim (a conditional UPDATE, so it works across processes and on every
    database) while saving, generating or sending it; the report is read again once claimed,
    so the work starts from its state of now. Waits up to `wait` seconds for another holder;
    an abandoned claim expires after CLAIM_FOR."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        claimed = (
            MonthlyReport.objects.filter(pk=report.pk)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claim_token=token, claimed_until=now + CLAIM_FOR)
        )
        if claimed:
            break
        if time.monotonic() >= deadline:
            raise ReportBusy(
                _(
                    "Someone is generating or sending this report at this moment: try again in a moment."
                ),
                code=ReportError.BUSY,
            )
        time.sleep(0.5)
    try:
        report.refresh_from_db()
        yield report
    finally:
        MonthlyReport.objects.filter(pk=report.pk, claim_token=token).update(
            claim_token="", claimed_until=None
        )
        report.claim_token, report.claimed_until = "", None


def default_recipients(restaurant: Restaurant) -> str:
    """The addresses of the restaurant's owner contacts, one per line."""
    emails = (
        ContactLink.objects.filter(restaurant=restaurant, role=ContactRole.OWNER)
        .exclude(contact__email="")
        .order_by("contact__last_name")
        .values_list("contact__email", flat=True)
    )
    return "\n".join(dict.fromkeys(emails))


def recipients_for(restaurant: Restaurant) -> str:
    """Where the restaurant's next report goes: its own list, or else its owner contacts."""
    stored = (
        ReportRecipients.objects.filter(restaurant=restaurant)
        .values_list("addresses", flat=True)
        .first()
    )
    return stored or default_recipients(restaurant)


def restaurant_recipients_set(
    *, restaurant: Restaurant, by: User | None, recipients: str
) -> ReportRecipients | None:
    """Remember where the restaurant's next reports go (the reports made already keep theirs).
    No address, or exactly its owner contacts', removes its own list: new drafts follow the
    owner contacts again, also when they change. A change is written on the timeline; the
    same list again changes nothing. Returns the list kept (None: the owner contacts)."""
    if by is not None:
        if not by.has_perm("reports.manage_monthlyreport"):
            raise PermissionDenied
        if not Restaurant.objects.visible_to(by).filter(pk=restaurant.pk).exists():
            raise PermissionDenied
    addresses = parse_recipients(recipients)
    with transaction.atomic():
        current = ReportRecipients.objects.select_for_update().filter(restaurant=restaurant).first()
        owners = default_recipients(restaurant)
        if not addresses or addresses == owners:
            if current is None:
                return None
            current.delete()
            kept = None
            body = _("Back to the owner contacts: %(recipients)s.") % {
                "recipients": ", ".join(owners.splitlines()) or "—"
            }
        else:
            if current is not None and current.addresses == addresses:
                return current
            kept = current or ReportRecipients(restaurant=restaurant)
            kept.addresses = addresses
            kept.updated_at = timezone.now()
            kept.updated_by = by
            kept.save()
            body = _("Next reports go to %(recipients)s.") % {
                "recipients": ", ".join(addresses.splitlines())
            }
        activity_record(
            restaurant=restaurant,
            by=by,
            subject=_("Monthly report recipients changed"),
            body=body,
            origin="monthly_report",
        )
    return kept


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
    """A draft for every client whose contract included the monthly report on any day of
    `month` (reports.monthly_selectors.restaurants_served), addressed to the restaurant's report
    recipients (its owner contacts when it has no list of its own); run twice, still one draft.
    The community managers are told once, for the drafts this call created."""
    month = first_of_month(month)
    ids = restaurants_served(month=month)
    existing = set(
        MonthlyReport.objects.filter(month=month, restaurant_id__in=ids).values_list(
            "restaurant_id", flat=True
        )
    )
    missing = ids - existing
    stored = dict(
        ReportRecipients.objects.filter(restaurant_id__in=missing).values_list(
            "restaurant_id", "addresses"
        )
    )
    deadline = deadline_for(month)
    created: list[MonthlyReport] = []
    for restaurant in Restaurant.objects.filter(pk__in=missing).select_related("community_manager"):
        try:
            with transaction.atomic():
                report = MonthlyReport.objects.create(
                    restaurant=restaurant,
                    month=month,
                    deadline=deadline,
                    language=restaurant.language,
                    recipients=stored.get(restaurant.pk) or default_recipients(restaurant),
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
        # Dates written as the manager reads them ("November 2026", "Dec. 10, 2026").
        with translation.override(manager.language):
            month_label = formats.date_format(month, "YEAR_MONTH_FORMAT")
            deadline_label = formats.date_format(deadline, "DATE_FORMAT")
        context = {
            "first_name": manager.first_name or manager.username,
            "month": month_label,
            "deadline": deadline_label,
            "count": len(due),
            "reports": [{"name": report.restaurant.name} for report in due],
            "url": url,
        }
        # robust: a mail server down must not fail the month-end job once its drafts are
        # committed (Django logs the error); the drafts show on the list anyway.
        transaction.on_commit(
            lambda manager=manager, context=context: email_send(
                key="reports-due", to=[manager.email], language=manager.language, context=context
            ),
            robust=True,
        )


# --- Editing -------------------------------------------------------------------------------------


def report_save(
    *, report: MonthlyReport, by: User, comments: str, recipients: str, remember: bool = False
) -> MonthlyReport:
    """Keep the comments (sanitised) and the recipients. New comments on a generated report
    make its PDF out of date: it goes back to draft and must be generated again before it is
    sent. With `remember`, recipients changed here become the restaurant's report recipients,
    for its next reports too (restaurant_recipients_set)."""
    _check_may(by, report)
    comments = sanitize_comments(comments)
    if len(comments) > COMMENTS_MAX:
        raise ValidationError({"comments": _("The comments are too long.")})
    recipients = parse_recipients(recipients)
    with _claimed(report):
        if report.is_sent:
            raise ValidationError(
                _("This report was sent: it cannot change. Make a new version to edit it.")
            )
        # Only a change is remembered: saving an older draft's comments, its recipients as
        # they were, leaves the restaurant's list as someone set it since.
        changed = recipients != report.recipients
        fields = ["recipients"]
        report.recipients = recipients
        if comments != report.comments:
            report.comments = comments
            report.comments_updated_at = timezone.now()
            report.comments_updated_by = by
            fields += ["comments", "comments_updated_at", "comments_updated_by"]
            if report.status == ReportStatus.GENERATED:
                report.status = ReportStatus.DRAFT
                fields.append("status")
        with transaction.atomic():
            report.save(update_fields=fields)
            if remember and changed:
                restaurant_recipients_set(
                    restaurant=report.restaurant, by=by, recipients=recipients
                )
    return report


def report_new_version(*, report: MonthlyReport, by: User | None) -> MonthlyReport:
    """A new draft of a sent report's month, with its comments and recipients (the existing
    one when it was made already, also by someone else at the same time)."""
    _check_may(by, report)
    report.refresh_from_db()
    if not report.is_sent:
        return report
    following = MonthlyReport.objects.filter(previous=report).first()
    if following is not None:
        return following
    try:
        with transaction.atomic():
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
    except IntegrityError:
        return MonthlyReport.objects.get(previous=report)


def _fail(report: MonthlyReport, kind: str, detail: object = "") -> None:
    """Record why a step failed, on the report, for good (not only on the page that asked). A
    report not sent yet becomes "failed"; a sent one stays sent (it went out: a failed resend
    changes nothing of it but the reason shown)."""
    fields = {"error_kind": kind, "error": str(detail)[:500], "error_at": timezone.now()}
    if not report.is_sent:
        fields["status"] = ReportStatus.FAILED
    MonthlyReport.objects.filter(pk=report.pk).update(**fields)
    for name, value in fields.items():
        setattr(report, name, value)


def _clear_error() -> dict:
    return {"error_kind": "", "error": "", "error_at": None}


# --- Generating ----------------------------------------------------------------------------------


def report_generate(
    *, report: MonthlyReport, by: User | None = None, wait: float = 0
) -> MonthlyReport:
    """Freeze the month's indicators and render the PDF. A sent report is never touched: its
    new version is generated instead. Missing data or any failure leaves the report failed
    with the reason; the comments stay."""
    _check_may(by, report)
    report.refresh_from_db()
    if report.is_sent:
        report = report_new_version(report=report, by=by)
    with _claimed(report, wait=wait):
        if report.is_sent:  # sent between the two reads: leave it as it went out
            raise ValidationError(
                _("This report was sent meanwhile: make a new version to change it."),
                code="already_sent",
            )
        try:
            figures = report_indicators.compute(
                restaurant=report.restaurant, month=report.month, language=report.language
            )
        except Exception as error:
            logger.exception("monthly report %s: indicators failed", report.pk)
            _fail(report, ReportError.INDICATORS, error)
            return report
        if not report_indicators.has_data(figures):
            _fail(report, ReportError.NO_DATA)
            return report
        try:
            with translation.override(report.language):
                pdf = render_pdf(
                    "reports/pdf/monthly_report.html", document_context(report, figures)
                )
        except Exception as error:
            logger.exception("monthly report %s: PDF rendering failed", report.pk)
            _fail(report, ReportError.PDF, error)
            return report
        old_file = report.pdf.name if report.pdf else ""
        report.indicators = figures
        report.pdf.save(report.filename, ContentFile(pdf), save=False)
        report.generated_at = timezone.now()
        report.status = ReportStatus.GENERATED
        for name, value in _clear_error().items():
            setattr(report, name, value)
        report.save(
            update_fields=[
                "indicators", "pdf", "generated_at", "status", "error_kind", "error", "error_at",
            ]
        )  # fmt: skip
        # The file replaced belonged to this unsent report only (a sent version keeps its own).
        if old_file and old_file != report.pdf.name:
            report.pdf.storage.delete(old_file)
    return report


# --- Sending -------------------------------------------------------------------------------------


def report_send(
    *, report: MonthlyReport, by: User | None = None, again: bool = False, wait: float = 0
) -> MonthlyReport:
    """E-mail the generated PDF to the recipients. A sent report is sent again only when asked
    (`again`: the "send again" button); a second click on "send" sends nothing more. A template
    or SMTP failure is recorded on the report with its reason; the PDF and comments stay, and a
    sent report stays sent."""
    _check_may(by, report)
    with _claimed(report, wait=wait):
        if report.is_sent and not again:
            raise ValidationError(
                _("This report was already sent on %(when)s.")
                % {
                    "when": formats.date_format(
                        timezone.localtime(report.sent_at), "SHORT_DATETIME_FORMAT"
                    )
                },
                code="already_sent",
            )
        if not report.is_sent:
            if report.pdf_is_stale:
                raise ValidationError(
                    _(
                        "The comments changed after the PDF was made: generate it again before sending."
                    ),
                    code=ReportError.STALE,
                )
            if not report.pdf_is_current:
                raise ValidationError(
                    _("Generate the report before sending it."), code=ReportError.NOT_GENERATED
                )
        recipients = report.recipient_list
        if not recipients:
            raise ValidationError(
                {
                    "recipients": ValidationError(
                        _("Add at least one recipient."), code=ReportError.RECIPIENTS
                    )
                }
            )
        try:
            with report.pdf.open("rb") as handle:
                content = handle.read()
        except OSError as error:
            logger.warning("monthly report %s: PDF file unreadable: %s", report.pk, error)
            _fail(report, ReportError.PDF_MISSING, error)
            return report
        with translation.override(report.language):
            month_label = formats.date_format(report.month, "YEAR_MONTH_FORMAT")
        context = {
            "restaurant": report.restaurant.name,
            "month": month_label,
            "sender": (by.get_full_name() or by.username) if by else "",
            "company": SiteSettings.load().company_name,
        }
        try:
            email_send(
                key="reports-monthly",
                to=recipients,
                context=context,
                language=report.language,
                attachments=[(report.filename, content, "application/pdf")],
            )
        except (ValidationError, EmailTemplate.DoesNotExist) as error:
            logger.error("monthly report %s: e-mail template unusable: %s", report.pk, error)
            detail = " ".join(error.messages) if isinstance(error, ValidationError) else error
            _fail(report, ReportError.TEMPLATE, detail)
            return report
        except (smtplib.SMTPException, OSError) as error:
            logger.warning("monthly report %s: sending failed: %s", report.pk, error)
            _fail(report, ReportError.SMTP, error)
            return report
        now = timezone.now()
        with transaction.atomic():
            MonthlyReport.objects.filter(pk=report.pk).update(
                status=ReportStatus.SENT,
                first_sent_at=Coalesce(F("first_sent_at"), Value(now)),
                sent_at=now,
                sent_to="\n".join(recipients),
                sent_by=by,
                times_sent=F("times_sent") + 1,
                **_clear_error(),
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
        .unsent()
        .filter(restaurant__community_manager=user)
    )


def batch_start(*, user: User) -> ReportBatch:
    """Generate and send the user's due reports in a task. While one of their batches is still
    running, starting again shows that one (a double click makes no second batch)."""
    if not user.has_perm("reports.manage_monthlyreport"):
        raise PermissionDenied
    running = ReportBatch.objects.filter(user=user, finished_at__isnull=True).order_by("-pk")
    for batch in running[:1]:
        if not batch.is_stalled:
            return batch
    reports = list(due_reports(user=user).values_list("pk", flat=True))
    if not reports:
        raise ValidationError(_("No report is due."))
    batch = ReportBatch.objects.create(user=user, total=len(reports), updated_at=timezone.now())
    ReportBatchItem.objects.bulk_create(
        ReportBatchItem(batch=batch, report_id=report_id) for report_id in reports
    )
    from reports import tasks

    transaction.on_commit(lambda: tasks.run_report_batch.delay(batch.pk))
    return batch


def batch_run(*, batch_id: int) -> ReportBatch:
    """Generate (when needed) and send each report of the batch not handled yet, recording each
    outcome. Idempotent: a redelivered task goes on where the first stopped and sends nothing
    twice (each report is claimed, and one sent since the batch began counts as sent). Whatever
    happens, the batch ends with a finish time, and a reason when it stopped early."""
    batch = ReportBatch.objects.select_related("user").get(pk=batch_id)
    if batch.finished_at is not None:
        return batch
    stopped, stopped_by = "", ""
    try:
        pending = (
            batch.items.filter(outcome=BatchOutcome.PENDING)
            .select_related("report__restaurant")
            .order_by("report__restaurant__name", "pk")
        )
        for item in pending:
            _batch_item_run(batch, item)
            _batch_count(batch)
    except Exception as error:  # the batch must end visibly, never poll forever
        logger.exception("report batch %s stopped", batch.pk)
        # The page words the kind; the detail is for the log and the administration.
        stopped_by = (
            BatchStop.DATABASE if isinstance(error, DatabaseError) else BatchStop.UNEXPECTED
        )
        stopped = f"{error.__class__.__name__}: {error}"[:500]
    finally:
        try:
            _batch_count(batch)
        except Exception:
            logger.exception("report batch %s: counts not updated", batch.pk)
        ReportBatch.objects.filter(pk=batch.pk).update(
            finished_at=timezone.now(), error_kind=stopped_by, error=stopped
        )
    batch.refresh_from_db()
    return batch


def _batch_item_run(batch: ReportBatch, item: ReportBatchItem) -> None:
    report = item.report
    try:
        report.refresh_from_db()
        if not report.is_sent:
            # A batch waits for a report's claim (a page does not): the claim of a worker that
            # died expires, and the redelivered task takes the report over.
            if not report.pdf_is_current:
                report = report_generate(report=report, by=batch.user, wait=BATCH_WAIT)
            if report.pdf_is_current:
                report = report_send(report=report, by=batch.user, wait=BATCH_WAIT)
    except ValidationError as error:
        if getattr(error, "code", None) != "already_sent":
            _fail(report, _error_kind(error), " ".join(error.messages))
    except PermissionDenied:
        _fail(report, ReportError.FORBIDDEN)
    except Exception as error:
        logger.exception("report batch %s: monthly report %s failed", batch.pk, report.pk)
        _fail(report, ReportError.UNEXPECTED, error)
    report.refresh_from_db()
    if report.is_sent:
        outcome = BatchOutcome.SENT if report.sent_at >= batch.started_at else BatchOutcome.SKIPPED
    else:
        outcome = BatchOutcome.FAILED
    # Only a pending item is written: a second run arriving later never overwrites an outcome.
    ReportBatchItem.objects.filter(pk=item.pk, outcome=BatchOutcome.PENDING).update(
        outcome=outcome,
        error_kind="" if report.is_sent else report.error_kind,
        error="" if report.is_sent else report.error,
        finished_at=timezone.now(),
    )


def _error_kind(error: ValidationError) -> str:
    """The kind a service's refusal stands for (its code), for the batch to record."""
    if hasattr(error, "error_dict"):
        parts = [part for errors in error.error_dict.values() for part in errors]
    else:
        parts = error.error_list
    codes = [part.code for part in parts if part.code in ReportError.values]
    return codes[0] if codes else ReportError.UNEXPECTED


def _batch_count(batch: ReportBatch) -> None:
    counts = batch.items.aggregate(
        done=Count("pk", filter=Q(outcome=BatchOutcome.SENT)),
        failed=Count("pk", filter=Q(outcome=BatchOutcome.FAILED)),
        skipped=Count("pk", filter=Q(outcome=BatchOutcome.SKIPPED)),
    )
    ReportBatch.objects.filter(pk=batch.pk).update(**counts, updated_at=timezone.now())
