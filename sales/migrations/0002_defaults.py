"""Default visit form (the example of the requirements), schedules and the e-mail template."""

from django.db import migrations

# (label fr, label en, kind, children)
VISIT_FORM = [
    ("Type de contact", "Contact type", "radio", [
        ("Visite", "Visit", []), ("Téléphone", "Phone", []), ("E-mail", "E-mail", []), ("Agence", "Agency", []),
    ]),
    ("Type de visite", "Visit type", "radio", [
        ("Avec rendez-vous", "With an appointment", []), ("Sans rendez-vous", "Without an appointment", []),
    ]),
    ("Résultat", "Outcome", "checkbox", [
        ("Commande", "Order", []),
        ("Livraison", "Delivery", []),
        ("Proposition remise", "Proposal handed over", [
            ("Type de proposition", "Proposal type", "checkbox", [
                ("Pack Essentiel", "Essential pack", []), ("Pack Premium", "Premium pack", []),
                ("Gestion des avis", "Review management", []),
            ]),
        ]),
        ("À rappeler", "To call back", []),
    ]),
]  # fmt: skip

TEMPLATE = {
    "key": "sales-contract-ending",
    "description": "Contract ending soon (agent and client managers)",
    "placeholders": "code, name, end, days, url",
    "subject_fr": "Contrat bientôt échu : {{ code }} {{ name }} ({{ end }})",
    "subject_en": "Contract ending soon: {{ code }} {{ name }} ({{ end }})",
    "body_fr": "Bonjour,\n\nLe contrat de {{ code }} {{ name }} prend fin le {{ end }}, dans {{ days }} jours.\n\n{{ url }}\n",
    "body_en": "Hello,\n\nThe contract of {{ code }} {{ name }} ends on {{ end }}, in {{ days }} days.\n\n{{ url }}\n",
}

SCHEDULES = [
    # name, task, crontab (minute, hour, day_of_month) or interval seconds
    ("Bill the month", "sales.tasks.bill_month", ("30", "2", "1"), None),
    ("Remind of ending contracts", "sales.tasks.remind_ending_contracts", ("0", "7", "*"), None),
    ("Pull Google calendars", "sales.tasks.pull_calendars", None, 300),
]


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    Node = apps.get_model("sales", "VisitFormNode")

    def add(items, parent, group_kind=None):
        for order, item in enumerate(items):
            if len(item) == 4:
                label_fr, label_en, kind, children = item
            else:
                (label_fr, label_en, children), kind = item, "option"
            node = Node.objects.using(alias).create(
                parent=parent,
                kind=kind,
                label=label_fr,
                label_fr=label_fr,
                label_en=label_en,
                order=order,
            )
            add(children, node)

    if not Node.objects.using(alias).exists():
        add(VISIT_FORM, None)
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    EmailTemplate.objects.using(alias).get_or_create(
        key=TEMPLATE["key"], defaults={k: v for k, v in TEMPLATE.items() if k != "key"}
    )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron, seconds in SCHEDULES:
        schedule = {}
        if cron:
            minute, hour, day = cron
            schedule["crontab"], _ = Crontab.objects.using(alias).get_or_create(
                minute=minute,
                hour=hour,
                day_of_month=day,
                month_of_year="*",
                day_of_week="*",
                timezone="Europe/Paris",
            )
        else:
            schedule["interval"], _ = Interval.objects.using(alias).get_or_create(
                every=seconds, period="seconds"
            )
        PeriodicTask.objects.using(alias).get_or_create(
            name=name, defaults={"task": task, **schedule}
        )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.using(schema_editor.connection.alias).filter(
        task__startswith="sales.tasks."
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("comadvisor", "0003_email_template"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
