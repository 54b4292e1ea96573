"""The dashboards' warm-up: every cached figure computed ahead, more often than the figures'
five-minute TTL, so the pages find them stored (also after a cache flush or a deploy). Editable
in the administration like every periodic task."""

from django.db import migrations

NAME = "Warm the dashboards' figures"
TASK = "reports.tasks.warm_dashboards"


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = Interval.objects.using(alias).get_or_create(every=4, period="minutes")
    # A run still queued when the next is due is dropped (a worker down does not pile them up).
    PeriodicTask.objects.using(alias).get_or_create(
        name=NAME, defaults={"task": TASK, "interval": interval, "expire_seconds": 240}
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_batch_stop_kind"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
