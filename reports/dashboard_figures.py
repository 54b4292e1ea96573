"""The dashboards' cached figures by name, each computed from (user, today), so that a worker can
compute one again when a page found it out of date (see reports.dashboard_cache).

Company figures are shared by everyone who sees every restaurant (scope "all": any such user
computes the same rows); the review manager's times are per user.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from accounts.enums import RoleName
from accounts.models import User
from reports import monthly_selectors, selectors
from reports.dashboard_cache import FigureCache
from sales.models import add_months, first_of_month

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    compute: Callable[[User, date], Any]
    topics: tuple[str, ...]
    per_language: bool = False  # holds translated names
    # Whose figure it is: "all" is shared by everyone who sees every restaurant (the direction
    # overview); a role's name, one copy per active user holding it.
    scope: str = "all"


def _months(today: date) -> list[date]:
    return selectors.month_starts(today, 12)


FIGURES: dict[str, Figure] = {
    "month_kpis": Figure(
        lambda user, today: selectors.month_kpis(month=first_of_month(today)),
        topics=("contracts", "visits", "conversions"),
    ),
    "invoiced": Figure(
        lambda user, today: selectors.invoiced_by_month(user=user, months=_months(today)),
        topics=("invoices",),
    ),
    "packs": Figure(
        lambda user, today: selectors.active_contracts_by_pack(user=user, day=today),
        topics=("contracts",),
        per_language=True,
    ),
    "client_flow": Figure(
        lambda user, today: selectors.client_flow(user=user, months=_months(today)[-6:]),
        topics=("contracts", "conversions"),
    ),
    "pipeline": Figure(
        lambda user, today: selectors.pipeline_by_stage(user=user), topics=("pipeline",)
    ),
    "reviews_within_target": Figure(
        lambda user, today: selectors.reviews_within_target(user=user, months=_months(today)),
        topics=("reviews",),
    ),
    "reports_on_time": Figure(
        lambda user, today: monthly_selectors.reports_on_time(
            month=add_months(first_of_month(today), -1)
        ),
        topics=("reports",),
    ),
    "agents": Figure(
        lambda user, today: selectors.activity_by_agent(user=user, month=first_of_month(today)),
        topics=("visits", "contracts"),
    ),
    "response_time": Figure(
        lambda user, today: selectors.response_time_trend(user=user, months=_months(today)),
        topics=("reviews",),
        scope=RoleName.REVIEW_MANAGER,
    ),
}


def figure_get(store: FigureCache, name: str, *, user: User, today: date) -> Any:
    """Figure `name` for the page: cached, or out of date while a worker computes it again."""
    from reports import tasks

    figure = FIGURES[name]
    return store.get(
        name,
        lambda: figure.compute(user, today),
        topics=figure.topics,
        per_language=figure.per_language,
        refresh=lambda: tasks.refresh_dashboard_figure.delay(
            name, store.scope, user.pk, translation.get_language() or ""
        ),
    )


def figure_refresh(*, name: str, scope: str, user: User, language: str) -> None:
    """Compute figure `name` again (for today) for the page that found it out of date."""
    today = timezone.localdate()
    figure = FIGURES[name]
    with translation.override(language or None):
        FigureCache(scope=scope).store(
            name,
            lambda: figure.compute(user, today),
            topics=figure.topics,
            per_language=figure.per_language,
        )


def _company_user() -> User | None:
    """A user whose overview reads every restaurant (any of them computes the shared figures)."""
    holders = (
        User.objects.filter(is_active=True, groups__name__in=[RoleName.ADMIN, RoleName.DIRECTION])
        .distinct()
        .order_by("pk")
        .prefetch_related("groups")
    )
    return next((user for user in holders if user.has_perm("crm.view_all_restaurants")), None)


def dashboard_figures_warm() -> list[tuple[str, str, str]]:
    """Compute and store every cached figure ahead of the pages (after a deploy or a cache
    flush, and on a schedule), so that a first visitor is served stored figures: the company
    ones once (per language for those with translated names), the per-user ones for each
    active holder of their role. Returns (name, scope, language) of each figure stored."""
    languages = [code for code, _name in settings.LANGUAGES]
    company = _company_user()
    stored: list[tuple[str, str, str]] = []
    for name, figure in FIGURES.items():
        if figure.scope == "all":
            targets = [("all", company)] if company is not None else []
        else:
            holders = User.objects.filter(is_active=True, groups__name=figure.scope).order_by("pk")
            targets = [(f"user:{user.pk}", user) for user in holders]
        for scope, user in targets:
            for language in languages if figure.per_language else [settings.LANGUAGE_CODE]:
                figure_refresh(name=name, scope=scope, user=user, language=language)
                stored.append((name, scope, language))
    if company is None:
        logger.info("dashboards warm-up: nobody sees every restaurant, company figures left")
    return stored
