"""Celery leaves of the reports: month-end drafts, a batch of reports generated and sent."""

from celery import shared_task
from django.utils import timezone

from reports import services
from sales.models import add_months, first_of_month


@shared_task
def create_month_drafts() -> int:
    """On the 1st: the drafts of the month that just ended."""
    month = add_months(first_of_month(timezone.localdate()), -1)
    return len(services.month_drafts_create(month=month))


@shared_task(acks_late=True)
def run_report_batch(batch_id: int) -> int:
    return services.batch_run(batch_id=batch_id).done


@shared_task(ignore_result=True)
def refresh_dashboard_figure(name: str, scope: str, user_id: int, language: str) -> bool:
    """A page served figure `name` out of date: compute it again (see reports.dashboard_cache).
    Running twice only computes twice."""
    from accounts.models import User
    from reports.dashboard_figures import FIGURES, figure_refresh

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or name not in FIGURES:
        return False  # its lock expires by itself
    figure_refresh(name=name, scope=scope, user=user, language=language)
    return True


@shared_task(ignore_result=True)
def warm_dashboards() -> int:
    """On a schedule shorter than the figures' TTL: every cached figure computed ahead, so the
    pages find them stored, also after a cache flush or a deploy."""
    from reports.dashboard_figures import dashboard_figures_warm

    return len(dashboard_figures_warm())
