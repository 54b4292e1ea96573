"""Demo monthly reports: last month's drafts, two of the demo community manager's generated."""

from django.utils import timezone

from accounts.models import User
from reports import services
from reports.models import MonthlyReport
from sales.models import add_months, first_of_month


def seed() -> int:
    """Create the demo reports once; returns the number created now."""
    if MonthlyReport.objects.exists():
        return 0
    month = add_months(first_of_month(timezone.localdate()), -1)
    drafts = services.month_drafts_create(month=month)
    manager = User.objects.filter(username="community_manager").first()
    own = [
        report
        for report in drafts
        if manager and report.restaurant.community_manager_id == manager.pk
    ]
    for report in own[:2]:
        services.report_save(
            report=report,
            by=manager,
            comments=(
                "<p>Un mois <strong>solide</strong> : l'audience progresse et les avis restent "
                "très bons.</p><ul><li>Continuer les photos du plat du jour</li>"
                "<li>Relancer les avis après le brunch du dimanche</li></ul>"
            ),
            recipients=report.recipients or "proprietaire@example.com",
        )
        services.report_generate(report=report, by=manager)
    return len(drafts)
