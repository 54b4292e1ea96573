"""Pages of the monthly client reports: the list (due ones first), the editor with its preview,
the PDF, sending, and the progress of a batch."""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import TruncDate
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.views import form_errors
from reports import document, indicators, services
from reports.document import document_context
from reports.models import (
    BatchOutcome,
    MonthlyReport,
    ReportBatch,
    ReportRecipients,
    ReportStatus,
)
from sales.models import parse_month

PAGE_SIZE = 50

logger = logging.getLogger(__name__)


class ReportForm(forms.Form):
    comments = forms.CharField(
        label=gettext_lazy("Comments"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )
    recipients = forms.CharField(
        label=gettext_lazy("Recipients"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("E-mail addresses, one per line."),
    )
    remember = forms.BooleanField(
        label=gettext_lazy("Send this restaurant's next reports to these recipients too"),
        required=False,
        initial=True,
    )


# Whether the month's report went out (its first sending, of any version), and by its deadline:
# the lists behind the dashboard's "reports sent on time".
SENT_FILTERS = {
    "yes": gettext_lazy("Sent"),
    "on_time": gettext_lazy("Sent on time"),
    "late": gettext_lazy("Sent late"),
    "no": gettext_lazy("Not sent"),
}


def _sent_filter(reports, sent: str):
    first = MonthlyReport.objects.filter(
        restaurant=OuterRef("restaurant"), month=OuterRef("month"), version=1
    ).values("first_sent_at")[:1]
    reports = reports.annotate(first_sending=TruncDate(Subquery(first)))
    if sent == "no":
        return reports.filter(first_sending__isnull=True)
    reports = reports.filter(first_sending__isnull=False)
    if sent == "on_time":
        return reports.filter(first_sending__lte=F("deadline"))
    if sent == "late":
        return reports.filter(first_sending__gt=F("deadline"))
    return reports


def _report(request: HttpRequest, pk: int) -> MonthlyReport:
    return get_object_or_404(
        MonthlyReport.objects.visible_to(request.user).select_related(
            "restaurant", "previous", "sent_by", "comments_updated_by"
        ),
        pk=pk,
    )


@login_required
@permission_required("reports.view_monthlyreport", raise_exception=True)
def monthly_list(request: HttpRequest) -> HttpResponse:
    reports = (
        MonthlyReport.objects.visible_to(request.user)
        .current()
        .select_related("restaurant", "restaurant__community_manager")
    )
    month = parse_month(request.GET.get("month"), None)
    if month:
        reports = reports.filter(month=month)
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    due = request.GET.get("due") == "1"
    if due:
        reports = reports.unsent()
    sent = request.GET.get("sent", "")
    if sent in SENT_FILTERS:
        reports = _sent_filter(reports, sent)
    reports = reports.order_by("-month", "deadline", "restaurant__name")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    may_manage = request.user.has_perm("reports.manage_monthlyreport")
    return render(
        request,
        "reports/monthly/list.html",
        {
            "page": page,
            "month": month,
            "status": status,
            "due": due,
            "sent": sent,
            "sent_filters": SENT_FILTERS.items(),
            "statuses": ReportStatus.choices,
            "query": query.urlencode(),
            "may_manage": may_manage,
            "due_count": services.due_reports(user=request.user).count() if may_manage else 0,
        },
    )


@login_required
@permission_required("reports.view_monthlyreport", raise_exception=True)
def monthly_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    may_manage = request.user.has_perm("reports.manage_monthlyreport")
    form = ReportForm(
        initial={"comments": report.comments, "recipients": report.recipients, "remember": True}
    )
    if request.method == "POST":
        if not may_manage:
            raise Http404
        action = request.POST.get("action", "save")
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                if not report.is_sent:
                    services.report_save(
                        report=report,
                        by=request.user,
                        comments=form.cleaned_data["comments"],
                        recipients=form.cleaned_data["recipients"],
                        remember=form.cleaned_data["remember"],
                    )
                result = _act(request, report, action)
            except ValidationError as error:
                form_errors(form, error)
            else:
                return redirect("monthly_detail", pk=result.pk)
    live = None if report.indicators else _live_figures(report)
    figures = report.indicators or live
    return render(
        request,
        "reports/monthly/detail.html",
        {
            "report": report,
            "form": form,
            "figures": figures,
            "gaps": document.gap_lines(figures, detail=True) if figures else [],
            "roi_rows": document.roi_rows(figures.get("roi")) if figures else [],
            "restaurant_recipients": ReportRecipients.objects.filter(
                restaurant=report.restaurant
            ).first(),
            "live": not report.indicators,
            "may_manage": may_manage,
            "versions": MonthlyReport.objects.filter(
                restaurant=report.restaurant, month=report.month
            ).order_by("version"),
        },
    )


def _live_figures(report: MonthlyReport) -> dict | None:
    """The figures as they stand, for a report not generated yet; None when they cannot be
    computed (the page says so instead of failing)."""
    try:
        return indicators.compute(
            restaurant=report.restaurant, month=report.month, language=report.language
        )
    except Exception:
        logger.exception("monthly report %s: live indicators failed", report.pk)
        return None


def _act(request: HttpRequest, report: MonthlyReport, action: str) -> MonthlyReport:
    if action == "generate":
        report = services.report_generate(report=report, by=request.user)
        if report.status == ReportStatus.GENERATED:
            messages.success(request, _("The PDF is ready."))
        else:
            messages.error(request, report.error_message)
    elif action in ("send", "resend"):
        report = services.report_send(report=report, by=request.user, again=action == "resend")
        if report.is_sent and not report.error_kind:
            messages.success(
                request,
                _("Sent to %(recipients)s.")
                % {"recipients": ", ".join(report.sent_to.splitlines())},
            )
        else:
            messages.error(request, report.error_message)
    elif action == "new_version":
        report = services.report_new_version(report=report, by=request.user)
        messages.success(request, _("A new version was made: edit it, then generate and send it."))
    else:
        messages.success(request, _("Saved."))
    return report


@login_required
@permission_required("reports.view_monthlyreport", raise_exception=True)
def monthly_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The document as it will print, with the figures it would freeze now (or has frozen)."""
    report = _report(request, pk)
    figures = report.indicators or _live_figures(report)
    if figures is None:
        messages.error(request, _("The figures of this month cannot be computed at the moment."))
        return redirect("monthly_detail", pk=report.pk)
    with translation.override(report.language):
        return render(request, "reports/pdf/monthly_report.html", document_context(report, figures))


@login_required
@permission_required("reports.view_monthlyreport", raise_exception=True)
def monthly_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    if not report.pdf:
        raise Http404
    try:
        handle = report.pdf.open("rb")
    except OSError:
        logger.exception("monthly report %s: PDF file unreadable", report.pk)
        messages.error(request, _("The PDF file is missing: generate the report again."))
        return redirect("monthly_detail", pk=report.pk)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=report.filename,
        content_type="application/pdf",
    )


@login_required
@permission_required("reports.manage_monthlyreport", raise_exception=True)
@require_POST
def monthly_batch_start(request: HttpRequest) -> HttpResponse:
    try:
        batch = services.batch_start(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("monthly_list")
    return redirect("monthly_batch", pk=batch.pk)


@login_required
@permission_required("reports.manage_monthlyreport", raise_exception=True)
def monthly_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ReportBatch, pk=pk, user=request.user)
    page = None
    if batch.is_over:
        # A community manager may have many reports due: the outcomes come by pages, the
        # failed ones first (what needs a look), then by restaurant.
        items = (
            batch.items.select_related("report__restaurant")
            .annotate(
                failed_first=Case(When(outcome=BatchOutcome.FAILED, then=Value(0)), default=1)
            )
            .order_by("failed_first", "report__restaurant__name", "pk")
        )
        page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "reports/monthly/batch_progress.html" if request.htmx else "reports/monthly/batch.html"
    )
    return render(request, template, {"batch": batch, "page": page})
