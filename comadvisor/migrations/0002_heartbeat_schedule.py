"""Schedule the worker heartbeat every minute (editable in admin like every periodic task)."""

from django.db import migrations

TASK = "comadvisor.tasks.worker_heartbeat"


def schedule(apps, schema_editor):
    alias = schema_editor.connection.alias
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.using(alias).get_or_create(
        every=60, period="seconds"
    )
    PeriodicTask.objects.using(alias).get_or_create(
        name="Worker heartbeat",
        defaults={"task": TASK, "interval": every_minute, "enabled": True},
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comadvisor", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
