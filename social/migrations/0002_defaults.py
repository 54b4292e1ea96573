from django.db import migrations

TEMPLATE = {
    "key": "social-reconnect-needed",
    "description": "A social account needs reconnecting (community manager and admins)",
    "placeholders": "network, account, name, error, url",
    "subject_fr": "À reconnecter : {{ network }} {{ account }} ({{ name }})",
    "subject_en": "Reconnect needed: {{ network }} {{ account }} ({{ name }})",
    "body_fr": "Bonjour,\n\nLe compte {{ network }} « {{ account }} » du restaurant {{ name }} ne répond plus avec ses identifiants ({{ error }}). Les statistiques, avis et publications de ce compte sont en pause jusqu'à sa reconnexion.\n\n{{ url }}\n",
    "body_en": 'Hello,\n\nThe {{ network }} account "{{ account }}" of {{ name }} no longer works with its credentials ({{ error }}). Its statistics, reviews and posts are paused until it is reconnected.\n\n{{ url }}\n',
}

REPLIES = [
    # name fr, name en, ratings, body fr, body en
    (
        "Merci (avis positif)",
        "Thank you (positive review)",
        "4,5",
        "Bonjour {reviewer}, merci beaucoup pour votre avis ! Toute l'équipe de {restaurant} est ravie que vous ayez passé un bon moment. À très bientôt !",
        "Hello {reviewer}, thank you very much for your review! The whole team at {restaurant} is delighted you enjoyed your visit. See you soon!",
    ),
    (
        "Avis mitigé",
        "Mixed review",
        "3",
        "Bonjour {reviewer}, merci pour votre retour. Nous prenons note de vos remarques pour nous améliorer et espérons vous accueillir de nouveau à {restaurant}.",
        "Hello {reviewer}, thank you for your feedback. We take note of your remarks to improve and hope to welcome you again at {restaurant}.",
    ),
    (
        "Excuses (avis négatif)",
        "Apology (negative review)",
        "1,2",
        "Bonjour {reviewer}, nous sommes désolés que votre expérience à {restaurant} n'ait pas été à la hauteur. Pouvez-vous nous écrire pour que nous en parlions ? {signature}",
        "Hello {reviewer}, we are sorry your experience at {restaurant} fell short. Could you write to us so we can talk about it? {signature}",
    ),
]  # fmt: skip

SCHEDULES = [
    ("Fetch social metrics", "social.tasks.fetch_metrics", ("30", "4")),
    ("Fetch reviews", "social.tasks.fetch_reviews", ("0", "6")),
    ("Publish due posts", "social.tasks.publish_due_posts", ("*", "*")),
]


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    EmailTemplate.objects.using(alias).get_or_create(
        key=TEMPLATE["key"], defaults={k: v for k, v in TEMPLATE.items() if k != "key"}
    )
    ReplyTemplate = apps.get_model("social", "ReplyTemplate")
    if not ReplyTemplate.objects.using(alias).exists():
        for order, (name_fr, name_en, ratings, body_fr, body_en) in enumerate(REPLIES):
            ReplyTemplate.objects.using(alias).create(
                name=name_fr,
                name_fr=name_fr,
                name_en=name_en,
                body=body_fr,
                body_fr=body_fr,
                body_en=body_en,
                for_ratings=ratings,
                order=order,
            )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour) in SCHEDULES:
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


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(
        task__startswith="social.tasks."
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
        ("comadvisor", "0003_email_template"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
