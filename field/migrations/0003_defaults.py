from django.db import migrations

TEMPLATES = [
    {
        "key": "field-envelopes-quarantined",
        "description": "Field kit envelopes put in quarantine (administrators)",
        "placeholders": "count, envelopes.name, envelopes.agent, envelopes.reason, envelopes.url, url",
        "subject_fr": "Kit terrain : {{ count }} envoi(s) en quarantaine",
        "subject_en": "Field kit: {{ count }} envelope(s) in quarantine",
        "body_fr": "Bonjour,\n\nL'intégration des envois du kit terrain a mis {{ count }} envoi(s) en quarantaine ; les autres ont été intégrés. Corrigez puis relancez, ou écartez chacun dans l'administration (l'agent voit le refus et sa raison à sa prochaine synchronisation).\n\n{% for envelope in envelopes %}- {{ envelope.name }} ({{ envelope.agent }}) : {{ envelope.reason }}\n  {{ envelope.url }}\n{% endfor %}\n{{ url }}\n",
        "body_en": "Hello,\n\nIntegrating the field kit's envelopes put {{ count }} envelope(s) in quarantine; the others were integrated. Fix and retry, or discard, each one in the administration (the agent sees the refusal and its reason at their next sync).\n\n{% for envelope in envelopes %}- {{ envelope.name }} ({{ envelope.agent }}): {{ envelope.reason }}\n  {{ envelope.url }}\n{% endfor %}\n{{ url }}\n",
    },
    {
        "key": "field-envelope-name-clash",
        "description": "A field kit envelope sent again under its name with another content (administrators)",
        "placeholders": "name, agent, stored_hash, new_hash, url",
        "subject_fr": "Kit terrain : envoi {{ name }} reçu avec un autre contenu",
        "subject_en": "Field kit: envelope {{ name }} received with another content",
        "body_fr": "Bonjour,\n\nL'appareil de {{ agent }} a envoyé de nouveau l'envoi {{ name }} avec un contenu différent de celui déjà reçu (empreinte enregistrée {{ stored_hash }}, nouvelle {{ new_hash }}). Le nouveau contenu a été refusé et conservé pour examen ; l'agent voit le refus dans son kit.\n\n{{ url }}\n",
        "body_en": "Hello,\n\n{{ agent }}'s device sent envelope {{ name }} again with a content that differs from the one received (stored hash {{ stored_hash }}, new {{ new_hash }}). The new content was refused and kept for review; the agent sees the refusal in their kit.\n\n{{ url }}\n",
    },
]  # fmt: skip

# (name, task, minute, hour)
CRONTABS = [
    ("Rebuild the field kit snapshots", "field.tasks.rebuild_snapshots", "30", "3"),
    ("Purge the field kit logs", "field.tasks.purge_logs", "45", "3"),
]
# (name, task, every minutes, enabled)
INTERVALS = [
    ("Integrate pending field envelopes", "field.tasks.integrate_pending", 5, True),
    # Enabled by the settings once a drop folder is set (field.services.schedules_sync).
    ("Read the field kit's drop folder", "field.tasks.integrate_drop_folder", 5, False),
]


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    for template in TEMPLATES:
        EmailTemplate.objects.using(alias).get_or_create(
            key=template["key"], defaults={k: v for k, v in template.items() if k != "key"}
        )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute, hour in CRONTABS:
        crontab, _ = Crontab.objects.using(alias).get_or_create(
            minute=minute,
            hour=hour,
            day_of_month="*",
            month_of_year="*",
            day_of_week="*",
            timezone="Europe/Paris",
        )
        PeriodicTask.objects.using(alias).get_or_create(
            name=name, defaults={"task": task, "crontab": crontab}
        )
    for name, task, minutes, enabled in INTERVALS:
        interval, _ = Interval.objects.using(alias).get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.using(alias).get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": enabled}
        )


def remove(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(alias).filter(
        task__startswith="field.tasks."
    ).delete()
    apps.get_model("comadvisor", "EmailTemplate").objects.using(alias).filter(
        key__in=[template["key"] for template in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0002_settings_recent_activities"),
        ("comadvisor", "0003_email_template"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
