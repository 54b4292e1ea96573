"""The agenda: a FullCalendar page fed by JSON, visits created, moved and resized in place,
the visit page, "visit today" and the iCalendar feed."""

import json
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from comadvisor.calendar_range import calendar_range
from crm import selectors as crm_selectors
from crm.views import form_errors
from sales import calendar_sync, selectors, services
from sales.enums import VisitStatus
from sales.forms import PlanVisitForm, VisitDoneForm, VisitTodayForm
from sales.models import CalendarConnection, CalendarFeed, Visit

COLORS = {
    VisitStatus.PLANNED: "#1f4e79",
    VisitStatus.DONE: "#198754",
    VisitStatus.CANCELLED: "#adb5bd",
}


def _range(request: HttpRequest) -> tuple[datetime, datetime]:
    return calendar_range(request.GET)


@login_required
@permission_required("sales.view_visit", raise_exception=True)
def agenda(request: HttpRequest) -> HttpResponse:
    agent = selectors.agenda_agent(user=request.user, requested=_int(request.GET.get("agent")))
    agents = (
        services.users_with_sales_role() if request.user.has_perm("sales.view_all_visits") else []
    )
    connection = CalendarConnection.objects.filter(user=request.user).first()
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(
        request,
        "sales/agenda.html",
        {
            "agent": agent,
            "agents": agents,
            "plan_form": PlanVisitForm(user=request.user),
            "connection": connection,
            "feed_url": request.build_absolute_uri(reverse("sales:ical_feed", args=[feed.token]))
            if feed
            else "",
        },
    )


def _int(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


@login_required
@permission_required("sales.view_visit", raise_exception=True)
def agenda_events(request: HttpRequest) -> JsonResponse:
    start, end = _range(request)
    agent = selectors.agenda_agent(user=request.user, requested=_int(request.GET.get("agent")))
    events = [
        {
            "id": visit.pk,
            "title": f"{visit.restaurant.name} ({visit.get_kind_display()})",
            "start": visit.start.isoformat(),
            "end": visit.end.isoformat(),
            "url": reverse("sales:visit_detail", args=[visit.pk]),
            "editable": visit.status == VisitStatus.PLANNED,
            "backgroundColor": COLORS[visit.status],
            "borderColor": COLORS[visit.status],
            "extendedProps": {"status": visit.status, "sync": visit.sync},
        }
        for visit in selectors.agenda_events(user=request.user, agent=agent, start=start, end=end)
    ]
    return JsonResponse(events, safe=False)


@login_required
@require_POST
def visit_plan(request: HttpRequest) -> HttpResponse:
    form = PlanVisitForm(request.POST, user=request.user)
    if form.is_valid():
        agent = selectors.agenda_agent(user=request.user, requested=_int(request.POST.get("agent")))
        try:
            visit = services.visit_plan(by=request.user, agent=agent, **form.cleaned_data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            if request.headers.get("accept") == "application/json":
                return JsonResponse({"id": visit.pk}, status=201)
            messages.success(request, _("Visit planned."))
            return redirect(f"{reverse('sales:agenda')}?agent={agent.pk}")
    if request.headers.get("accept") == "application/json":
        return JsonResponse({"errors": form.errors}, status=400)
    messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
    return redirect("sales:agenda")


@login_required
@require_POST
def visit_move(request: HttpRequest, pk: int) -> JsonResponse:
    """Drag and drop or resize in the calendar: {start, end} as ISO 8601."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    try:
        data = json.loads(request.body or "{}")
        start, end = parse_datetime(data.get("start", "")), parse_datetime(data.get("end", ""))
    except (ValueError, TypeError):
        start = end = None
    if not start or not end:
        return JsonResponse({"error": _("Give the new start and end.")}, status=400)
    try:
        services.visit_move(visit=visit, by=request.user, start=start, end=end)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse(
        {"id": visit.pk, "start": visit.start.isoformat(), "end": visit.end.isoformat()}
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_get(user=request.user, pk=pk)
    form = VisitDoneForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.visit_cancel(visit=visit, by=request.user)
                messages.success(request, _("Visit cancelled."))
                return redirect("sales:visit_detail", pk=pk)
            if form.is_valid():
                services.visit_complete(visit=visit, by=request.user, **form.service_data())
                messages.success(request, _("Visit recorded."))
                return redirect("sales:visit_detail", pk=pk)
        except ValidationError as error:
            form_errors(form, error)
    return render(
        request,
        "sales/visit_detail.html",
        {"visit": visit, "form": form, "tree": selectors.visit_form_tree()},
    )


@login_required
@permission_required("sales.add_visit", raise_exception=True)
def visit_today(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """The "visit today" dialog of the restaurant page (and its full-page fallback)."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    form = VisitTodayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_record_today(
                restaurant=restaurant, by=request.user, **form.service_data()
            )
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Visit recorded."))
            target = reverse("crm:restaurant_detail", args=[restaurant.pk])
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Redirect": target})
            return redirect(target)
    template = "sales/partials/visit_today_form.html" if request.htmx else "sales/visit_today.html"
    return render(
        request,
        template,
        {
            "restaurant": restaurant,
            "form": form,
            "tree": selectors.visit_form_tree(),
            "chosen": form.chosen_nodes(),
        },
        status=422 if form.is_bound and not request.htmx else 200,
    )


@login_required
@require_POST
def feed_regenerate(request: HttpRequest) -> HttpResponse:
    CalendarFeed.objects.update_or_create(
        user=request.user,
        defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()},
    )
    messages.success(request, _("A new calendar address was made; the old one no longer works."))
    return redirect("sales:agenda")


def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's visits for any calendar application; the secret token is the only key."""
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token)
    if not feed.user.is_active:
        raise Http404
    since = timezone.now() - timedelta(days=90)
    calendar = Calendar()
    calendar.add("prodid", "-//ComAdvisor CRM//Visits//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"ComAdvisor - {feed.user.get_display_name()}")
    visits = Visit.objects.filter(agent=feed.user, start__gte=since).exclude(
        status=VisitStatus.CANCELLED
    )
    for visit in visits.select_related("restaurant").order_by("start")[:2000]:
        event = Event()
        event.add("uid", f"visit-{visit.pk}@comadvisor")
        event.add("summary", f"{visit.get_kind_display()} - {visit.restaurant.name}")
        event.add("dtstart", visit.start)
        event.add("dtend", visit.end)
        event.add("dtstamp", visit.updated_at)
        event.add(
            "location",
            " ".join(
                filter(
                    None,
                    [visit.restaurant.address, visit.restaurant.postal_code, visit.restaurant.city],
                )
            ),
        )
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")


# --- Google Calendar connection (OAuth web flow) ---------------------------------------------

_OAUTH_SESSION = "google_calendar_oauth"


def _oauth_flow(request: HttpRequest, state: str | None = None):
    from google_auth_oauthlib.flow import Flow

    from sales.providers.google_calendar import SCOPES

    config = {
        "web": {
            "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
            "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    }
    flow = Flow.from_client_config(config, scopes=SCOPES, state=state)
    # The address registered with Google: the site's, whatever host the request came through
    # (a proxy, an internal name).
    flow.redirect_uri = settings.SITE_URL + reverse("sales:calendar_callback")
    return flow


@login_required
@permission_required("sales.view_visit", raise_exception=True)
def calendar_connect(request: HttpRequest) -> HttpResponse:
    if not settings.GOOGLE_OAUTH_CLIENT_ID:
        messages.error(
            request, _("Google Calendar synchronisation is not configured on this server.")
        )
        return redirect("sales:agenda")
    flow = _oauth_flow(request)
    url, state = flow.authorization_url(
        access_type="offline", prompt="consent", include_granted_scopes="true"
    )
    request.session[_OAUTH_SESSION] = {
        "state": state,
        "verifier": getattr(flow, "code_verifier", None),
    }
    return redirect(url)


@login_required
@permission_required("sales.view_visit", raise_exception=True)
def calendar_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(_OAUTH_SESSION, None)
    if not pending or request.GET.get("state") != pending["state"] or "code" not in request.GET:
        messages.error(request, _("The Google connection was not completed; try again."))
        return redirect("sales:agenda")
    flow = _oauth_flow(request, state=pending["state"])
    if pending.get("verifier"):
        flow.code_verifier = pending["verifier"]
    try:
        flow.fetch_token(code=request.GET["code"])
    except Exception as error:  # oauthlib and requests raise many kinds; all mean "not connected"
        messages.error(request, _("Google refused the connection: %(error)s") % {"error": error})
        return redirect("sales:agenda")
    calendar_sync.connection_save(user=request.user, credentials_json=flow.credentials.to_json())
    messages.success(request, _("Your Google calendar is connected."))
    return redirect("sales:agenda")


@login_required
@require_POST
def calendar_disconnect(request: HttpRequest) -> HttpResponse:
    calendar_sync.connection_delete(user=request.user)
    messages.success(request, _("Your Google calendar is disconnected."))
    return redirect("sales:agenda")
