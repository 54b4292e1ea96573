"""The nightly job that ends the contracts whose last day is over."""

from django.db import migrations

NAME = "End expired contracts"
TASK = "sales.tasks.end_expired_contracts"


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # Past midnight, before billing (02:30 on the 1st) and the report drafts (03:00 on the 1st).
    crontab, _ = Crontab.objects.using(alias).get_or_create(
        minute="15",
        hour="0",
        day_of_month="*",
        month_of_year="*",
        day_of_week="*",
        timezone="Europe/Paris",
    )
    PeriodicTask.objects.using(alias).get_or_create(
        name=NAME, defaults={"task": TASK, "crontab": crontab}
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0004_visit_status_start_index"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
