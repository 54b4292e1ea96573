"""The restaurant's social page, its accounts and their connection, the connector health page."""

import datetime as dt
import secrets

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from comadvisor.connectors import ConnectorError, Permanent, RetryLater
from crm import selectors as crm_selectors
from crm.views import form_errors
from sales.enums import Network
from sales.models import add_months, parse_month
from social import selectors, services, tasks
from social.enums import AccountState
from social.forms import AccountForm, ProfileForm, this_month
from social.metrics import CHARTS

PAGE_SIZE = 50
PERIODS = {"30d": 30, "90d": 90, "12m": 365, "24m": 730}


@login_required
def restaurant_section(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """The social part of the restaurant page (its accounts and their state), loaded by htmx.
    Who may not see social accounts (an accountant: /restaurants/<id>/social/ answers them 403)
    gets nothing to show, not their external ids and errors."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    if not request.user.has_perm("social.view_socialaccount"):
        return HttpResponse("")
    return render(
        request,
        "social/partials/restaurant_section.html",
        {
            "restaurant": restaurant,
            "accounts": selectors.restaurant_accounts(restaurant=restaurant),
        },
    )


def _period(request: HttpRequest) -> tuple[str, selectors.Period, str]:
    """The period chosen (a preset, or the months from `from` to `to`), up to yesterday, the
    last day with figures; and why a custom period was refused ("" when it was not), the last
    90 days being shown instead."""
    end = timezone.localdate() - dt.timedelta(days=1)
    key = request.GET.get("period", "90d")
    error = ""
    if key == "custom":
        start = parse_month(request.GET.get("from"), None)
        last = parse_month(request.GET.get("to"), None)
        if start is None or last is None:
            error = _("Choose the first and the last month of the period.")
        elif start > last:
            error = _("The period starts after it ends.")
        elif start > end:
            error = _("The figures stop yesterday: choose a period that starts before today.")
        else:
            end = min(add_months(last, 1) - dt.timedelta(days=1), end)
            return key, selectors.Period(start, end), ""
        key = "90d"
    if key not in PERIODS:
        key = "90d"
    return key, selectors.Period(end - dt.timedelta(days=PERIODS[key] - 1), end), error


@login_required
@permission_required("social.view_socialaccount", raise_exception=True)
def restaurant_social(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    period_key, period, period_error = _period(request)
    month = parse_month(request.GET.get("month"), add_months(this_month(), -1))
    accounts = selectors.restaurant_accounts(restaurant=restaurant)
    charts = selectors.restaurant_charts(restaurant=restaurant, period=period)
    posts = selectors.posts_published_by_month(
        restaurant=restaurant, start=period.start, end=period.end
    )
    charts["posts"] = [
        posts.get(dt.date.fromisoformat(label), 0) for label in charts["reviews"]["labels"]
    ]
    charts["labels_text"] = {
        "reviews": _("Reviews"),
        "rating": _("Average rating"),
        "posts": _("Posts published"),
    }
    stats = selectors.response_stats(
        restaurant=restaurant, since=add_months(month, -11), until=add_months(month, 1)
    )
    may_manage = request.user.has_perm("social.manage_socialaccount")
    profile = getattr(restaurant, "social_profile", None) if may_manage else None
    return render(
        request,
        "social/restaurant_social.html",
        {
            "restaurant": restaurant,
            "accounts": accounts,
            "any_demo": any(account.demo for account in accounts),
            "period_key": period_key,
            "period": period,
            "period_error": period_error,
            "periods": [
                ("30d", _("30 days")),
                ("90d", _("90 days")),
                ("12m", _("12 months")),
                ("24m", _("24 months")),
            ],
            "month": month,
            "charts": charts,
            "chart_keys": [key for key, _title, _names in CHARTS],
            "evolution": selectors.restaurant_evolution(restaurant=restaurant, month=month),
            "roi": selectors.restaurant_roi(restaurant=restaurant, month=month),
            "stats": sorted(stats.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True),
            "networks": dict(Network.choices),
            "may_manage": may_manage,
            "may_fetch_reviews": may_manage or request.user.has_perm("social.reply_review"),
            "profile_form": ProfileForm(instance=profile) if may_manage else None,
            "account_form": AccountForm() if may_manage else None,
            "meta_ready": bool(settings.META_APP_ID),
            "google_ready": bool(settings.GOOGLE_OAUTH_CLIENT_ID),
        },
    )


@login_required
@require_POST
def restaurant_fetch(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """Fetch now: metrics (community managers) or reviews (also review managers) of every account
    of the restaurant, through the same tasks as the daily jobs."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    what = request.POST.get("what", "reviews")
    allowed = request.user.has_perm("social.manage_socialaccount") or (
        what == "reviews" and request.user.has_perm("social.reply_review")
    )
    if not allowed:
        raise PermissionDenied
    task = tasks.fetch_account_metrics if what == "metrics" else tasks.fetch_account_reviews
    ids = [
        account.pk
        for account in selectors.restaurant_accounts(restaurant=restaurant)
        if account.state != AccountState.NEEDS_RECONNECT
    ]
    for account_id in ids:
        transaction.on_commit(lambda pk=account_id: task.delay(pk))
    messages.success(
        request,
        _("Fetching from %(count)d accounts; the figures appear as they arrive.")
        % {"count": len(ids)},
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        # Only a page of this site: a crafted form must not send the user elsewhere.
        back = reverse("social:restaurant_social", args=[restaurant.pk])
    return redirect(back)


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
@require_POST
def profile_update(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.social_profile_update(
                restaurant=restaurant,
                by=request.user,
                average_ticket=form.cleaned_data["average_ticket"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The average ticket is saved."))
    else:
        messages.error(request, _("Enter an amount of zero or more."))
    return redirect("social:restaurant_social", restaurant_pk=restaurant.pk)


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
@require_POST
def account_add(request: HttpRequest, restaurant_pk: int) -> HttpResponse:
    """An account without an OAuth flow (TripAdvisor: the location id from its link)."""
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    form = AccountForm(request.POST)
    if form.is_valid():
        try:
            services.account_add(restaurant=restaurant, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors(form, error)
    if form.errors:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    else:
        messages.success(request, _("The account is added."))
    return redirect("social:restaurant_social", restaurant_pk=restaurant.pk)


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
@require_POST
def account_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(user=request.user, pk=pk)
    services.account_disconnect(account=account, by=request.user)
    messages.success(request, _("The account is disconnected."))
    return redirect("social:restaurant_social", restaurant_pk=account.restaurant_id)


# --- OAuth connection (Meta, Google) -------------------------------------------------------------

_CONNECT_SESSION = "social-connect"


def _redirect_uri(name: str) -> str:
    """The callback's address as registered with the platform: from SITE_URL, never from the
    request's host, which a proxy in front of the site may rewrite (and the platform refuses a
    redirect URI it does not know)."""
    return f"{settings.SITE_URL}{reverse(name)}"


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
def connect_start(request: HttpRequest, restaurant_pk: int, provider: str) -> HttpResponse:
    from social import oauth

    restaurant = crm_selectors.restaurant_get(user=request.user, pk=restaurant_pk)
    back = redirect("social:restaurant_social", restaurant_pk=restaurant.pk)
    state = secrets.token_urlsafe(24)
    if provider == "meta":
        if not settings.META_APP_ID:
            messages.error(request, _("The Meta connection is not configured on this server."))
            return back
        url = oauth.meta_authorization_url(
            redirect_uri=_redirect_uri("social:connect_meta_callback"), state=state
        )
        verifier = None
    else:
        if not settings.GOOGLE_OAUTH_CLIENT_ID:
            messages.error(request, _("The Google connection is not configured on this server."))
            return back
        flow = oauth.google_flow(
            redirect_uri=_redirect_uri("social:connect_google_callback"), state=state
        )
        url, _state = flow.authorization_url(access_type="offline", prompt="consent")
        verifier = getattr(flow, "code_verifier", None)
    request.session[_CONNECT_SESSION] = {
        "state": state,
        "restaurant": restaurant.pk,
        "provider": provider,
        "verifier": verifier,
    }
    return redirect(url)


def _as_connector_error(error: Exception) -> ConnectorError:
    """The outcome of a failure outside the connectors (oauthlib's token exchange): a network
    fault may pass, anything else is the platform saying no."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, requests.RequestException):
        return RetryLater(f"network error: {type(error).__name__}")
    return Permanent(str(error) or type(error).__name__)


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
def connect_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """Back from the platform: list what the token can reach, the user picks what to connect."""
    from social import oauth

    pending = request.session.get(_CONNECT_SESSION)
    if (
        not pending
        or pending["provider"] != provider
        or request.GET.get("state") != pending["state"]
        or "code" not in request.GET
    ):
        messages.error(request, _("The connection was not completed; try again."))
        return redirect("dashboard")
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=pending["restaurant"])
    try:
        if provider == "meta":
            token = oauth.meta_exchange_code(
                code=request.GET["code"],
                redirect_uri=_redirect_uri("social:connect_meta_callback"),
            )
            assets = oauth.meta_assets(token, expires_at=oauth.meta_data_access_expires_at(token))
        else:
            flow = oauth.google_flow(
                redirect_uri=_redirect_uri("social:connect_google_callback"),
                state=pending["state"],
            )
            if pending.get("verifier"):
                flow.code_verifier = pending["verifier"]
            flow.fetch_token(code=request.GET["code"])
            assets = oauth.google_assets(flow.credentials.to_json())
    except Exception as error:  # oauthlib, requests and the SDKs raise many kinds: all mean "no"
        request.session.pop(_CONNECT_SESSION, None)
        messages.error(
            request,
            _("The account was not connected. %(error)s")
            % {"error": services.error_text(_as_connector_error(error))},
        )
        return redirect("social:restaurant_social", restaurant_pk=restaurant.pk)
    pending["assets"] = [services.asset_to_session(asset) for asset in assets]
    request.session[_CONNECT_SESSION] = pending
    return redirect("social:connect_choose")


@login_required
@permission_required("social.manage_socialaccount", raise_exception=True)
def connect_choose(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(_CONNECT_SESSION)
    if not pending or "assets" not in pending:
        messages.error(request, _("The connection was not completed; try again."))
        return redirect("dashboard")
    restaurant = crm_selectors.restaurant_get(user=request.user, pk=pending["restaurant"])
    assets = pending["assets"]
    if request.method == "POST":
        chosen = [
            assets[int(index)]
            for index in request.POST.getlist("asset")
            if index.isdigit() and int(index) < len(assets)
        ]
        if not chosen:
            messages.error(request, _("Choose at least one account."))
        else:
            try:
                count = services.accounts_connect(
                    restaurant=restaurant, by=request.user, assets=chosen
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                request.session.pop(_CONNECT_SESSION, None)
                messages.success(request, _("%(count)d accounts connected.") % {"count": count})
                return redirect("social:restaurant_social", restaurant_pk=restaurant.pk)
    return render(
        request,
        "social/connect_choose.html",
        {"restaurant": restaurant, "assets": list(enumerate(assets))},
    )


# --- Connector health ----------------------------------------------------------------------------


@login_required
@permission_required("social.view_connector_health", raise_exception=True)
def health(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    network = request.GET.get("network", "")
    if state not in AccountState.values:
        state = ""
    if network not in Network.values:
        network = ""
    queryset = selectors.account_health_list(user=request.user, state=state, network=network)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "social/health.html",
        {
            "page": page,
            "state": state,
            "network": network,
            "states": AccountState.choices,
            "networks": Network.choices,
            "counts": selectors.account_health_counts(user=request.user),
            "late": selectors.late_publications(user=request.user)[:50],
            "query": query.urlencode(),
        },
    )
