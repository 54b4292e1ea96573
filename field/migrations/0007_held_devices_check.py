from django.db import migrations

TEMPLATE = {
    "key": "field-devices-held",
    "description": "Field kit devices whose envelopes have been waiting too long (administrators)",
    "placeholders": "count, hours, devices.device, devices.agent, devices.pending, devices.oldest, devices.missing, devices.url, url",
    "subject_fr": "Kit terrain : {{ count }} appareil(s) en attente depuis plus de {{ hours }} h",
    "subject_en": "Field kit: {{ count }} device(s) waiting for more than {{ hours }} h",
    "body_fr": "Bonjour,\n\nLes envois de {{ count }} appareil(s) du kit terrain attendent d'être intégrés depuis plus de {{ hours }} heures. Quand des numéros manquent, l'appareil ne les a jamais envoyés (fichier perdu, tablette réinitialisée) : dans l'administration (Kit terrain > Appareils), l'action « Abandonner les numéros manquants » laisse intégrer les envois suivants. Sans numéro manquant, l'intégration ne tourne pas : vérifiez le worker.\n\n{% for device in devices %}- {{ device.device }} ({{ device.agent }}) : {{ device.pending }} envoi(s) en attente depuis le {{ device.oldest }}{% if device.missing %}, numéros manquants {{ device.missing }}{% endif %}\n  {{ device.url }}\n{% endfor %}\n{{ url }}\n",
    "body_en": "Hello,\n\nThe envelopes of {{ count }} field kit device(s) have been waiting to be integrated for more than {{ hours }} hours. Where numbers are missing, the device never sent them (a lost file, a reset tablet): in the administration (Field kit > Devices), the action \"Give up the missing sequence numbers\" lets the later envelopes be integrated. Without a missing number, the integration is not running: check the worker.\n\n{% for device in devices %}- {{ device.device }} ({{ device.agent }}): {{ device.pending }} envelope(s) waiting since {{ device.oldest }}{% if device.missing %}, missing numbers {{ device.missing }}{% endif %}\n  {{ device.url }}\n{% endfor %}\n{{ url }}\n",
}  # fmt: skip

TASK = ("Check the field kit's held devices", "field.tasks.check_held_devices", "15", "4")


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    EmailTemplate.objects.using(alias).get_or_create(
        key=TEMPLATE["key"], defaults={k: v for k, v in TEMPLATE.items() if k != "key"}
    )
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, minute, hour = TASK
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
    alias = schema_editor.connection.alias
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(alias).filter(
        task=TASK[1]
    ).delete()
    apps.get_model("comadvisor", "EmailTemplate").objects.using(alias).filter(
        key=TEMPLATE["key"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0006_fieldsettings_held_device_hours"),
        ("comadvisor", "0003_email_template"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
