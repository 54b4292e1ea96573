from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _conversion_makes_snapshots_stale(sender, restaurant, **kwargs) -> None:
    # A prospect that became a client moves in its agents' offline data: their stored snapshots
    # are rebuilt at the next read (the nightly job would otherwise catch it).
    from field import services

    services.snapshots_mark_stale(
        agent_ids=[restaurant.sales_agent_id, restaurant.created_by_id], rebuild=False
    )


class FieldConfig(AppConfig):
    name = "field"
    verbose_name = _("Field kit")

    def ready(self) -> None:
        from crm.signals import restaurant_converted

        restaurant_converted.connect(
            _conversion_makes_snapshots_stale, dispatch_uid="field.conversion_snapshots"
        )
