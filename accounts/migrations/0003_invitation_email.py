from django.db import migrations

TEMPLATE = {
    "key": "accounts-invitation",
    "description": "Invitation to choose a password",
    "placeholders": "name, username, company, url, days",
    "subject_fr": "Votre compte CRM {{ company }}",
    "subject_en": "Your {{ company }} CRM account",
    "body_fr": (
        "Bonjour {{ name }},\n\n"
        "Un compte a été créé pour vous dans le CRM {{ company }}.\n"
        "Votre identifiant : {{ username }}\n\n"
        "Choisissez votre mot de passe en ouvrant ce lien (valable une seule fois, pendant {{ days }} jours) :\n"
        "{{ url }}\n\n"
        "Si vous n'attendiez pas cet e-mail, vous pouvez l'ignorer.\n"
    ),
    "body_en": (
        "Hello {{ name }},\n\n"
        "An account has been created for you in the {{ company }} CRM.\n"
        "Your username: {{ username }}\n\n"
        "Choose your password by opening this link (it works once, for {{ days }} days):\n"
        "{{ url }}\n\n"
        "If you did not expect this e-mail, you can ignore it.\n"
    ),
}


def create(apps, schema_editor):
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    key = TEMPLATE["key"]
    EmailTemplate.objects.using(schema_editor.connection.alias).get_or_create(
        key=key, defaults={k: v for k, v in TEMPLATE.items() if k != "key"}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("comadvisor", "0003_email_template"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
