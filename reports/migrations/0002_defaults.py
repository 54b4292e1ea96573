from django.db import migrations

TEMPLATES = [
    {
        "key": "reports-monthly",
        "description": "The monthly report sent to the client (PDF attached)",
        "placeholders": "restaurant, month, sender, company",
        "subject_fr": "{{ restaurant }} : votre rapport mensuel {{ month }}",
        "subject_en": "{{ restaurant }}: your monthly report for {{ month }}",
        "body_fr": "Bonjour,\n\nVous trouverez ci-joint le rapport mensuel de {{ restaurant }} pour {{ month }} : votre audience, vos avis, vos publications et ce qu'ils vous ont rapporté.\n\nNous restons à votre disposition pour en parler.\n\n{{ sender }}\n{{ company }}\n",
        "body_en": "Hello,\n\nPlease find attached the monthly report of {{ restaurant }} for {{ month }}: your audience, your reviews, your posts and what they brought you.\n\nWe are happy to talk it through with you.\n\n{{ sender }}\n{{ company }}\n",
    },
    {
        "key": "reports-due",
        "description": "Monthly reports to write (community manager, at month end)",
        "placeholders": "first_name, month, deadline, count, reports.name, url",
        "subject_fr": "{{ count }} rapport(s) mensuel(s) {{ month }} à envoyer avant le {{ deadline }}",
        "subject_en": "{{ count }} monthly report(s) for {{ month }} due by {{ deadline }}",
        "body_fr": "Bonjour {{ first_name }},\n\nLes rapports mensuels de {{ month }} sont prêts à être commentés et envoyés avant le {{ deadline }} :\n{% for report in reports %}- {{ report.name }}\n{% endfor %}\n{{ url }}\n",
        "body_en": "Hello {{ first_name }},\n\nThe monthly reports for {{ month }} are ready for your comments and due by {{ deadline }}:\n{% for report in reports %}- {{ report.name }}\n{% endfor %}\n{{ url }}\n",
    },
]  # fmt: skip


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    for template in TEMPLATES:
        EmailTemplate.objects.using(alias).get_or_create(
            key=template["key"], defaults={k: v for k, v in template.items() if k != "key"}
        )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = Crontab.objects.using(alias).get_or_create(
        minute="0",
        hour="3",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone="Europe/Paris",
    )
    PeriodicTask.objects.using(alias).get_or_create(
        name="Create monthly report drafts",
        defaults={"task": "reports.tasks.create_month_drafts", "crontab": crontab},
    )


def remove(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(alias).filter(
        task__startswith="reports.tasks."
    ).delete()
    apps.get_model("comadvisor", "EmailTemplate").objects.using(alias).filter(
        key__in=[template["key"] for template in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("comadvisor", "0003_email_template"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
