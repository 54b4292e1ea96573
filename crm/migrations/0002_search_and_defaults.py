"""Trigram and JSON indexes for search and filters (PostgreSQL), default contact types, e-mail templates."""

from django.db import migrations

TRIGRAM_INDEXES = {
    "crm_rest_name_trgm": "crm_restaurant USING gin (search_name gin_trgm_ops)",
    "crm_rest_code_trgm": "crm_restaurant USING gin (lower(client_code) gin_trgm_ops)",
    "crm_rest_city_trgm": "crm_restaurant USING gin (search_city gin_trgm_ops)",
    "crm_contact_name_trgm": "crm_contact USING gin (search_name gin_trgm_ops)",
    # Custom-field filters use JSON containment (@>), which this index serves.
    "crm_rest_custom_gin": "crm_restaurant USING gin (custom_data jsonb_path_ops)",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite scans; the search still works, only slower on large tables.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in TRIGRAM_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


CONTACT_TYPES = ["Restaurateur", "Personnel", "Distributeur", "Partenaire"]

TEMPLATES = [
    {
        "key": "crm-change-request",
        "description": "Change request sent to the accountant",
        "placeholders": "code, name, changes.field, changes.old, changes.new, requester, comment, url",
        "subject_fr": "[Modification Client] {{ code }} {{ name }}",
        "subject_en": "[Modification Client] {{ code }} {{ name }}",
        "body_fr": (
            "Bonjour,\n\n{{ requester }} demande les modifications suivantes sur le client {{ code }} {{ name }} :\n\n"
            '{% for change in changes %}{{ change.field }} : "{{ change.old }}" remplacé par "{{ change.new }}"\n{% endfor %}'
            "\nCommentaire : {{ comment }}\n\nTraiter la demande : {{ url }}\n"
        ),
        "body_en": (
            "Hello,\n\n{{ requester }} asks for these changes on client {{ code }} {{ name }}:\n\n"
            '{% for change in changes %}{{ change.field }}: "{{ change.old }}" replaced by "{{ change.new }}"\n{% endfor %}'
            "\nComment: {{ comment }}\n\nHandle the request: {{ url }}\n"
        ),
    },
    {
        "key": "crm-change-request-applied",
        "description": "Change request applied (to the requester)",
        "placeholders": "code, name, changes.field, changes.old, changes.new, decided_by, url",
        "subject_fr": "[Modification Client] {{ code }} {{ name }} : appliquée",
        "subject_en": "[Modification Client] {{ code }} {{ name }}: applied",
        "body_fr": "Bonjour,\n\n{{ decided_by }} a appliqué votre demande :\n\n"
        '{% for change in changes %}{{ change.field }} : "{{ change.old }}" remplacé par "{{ change.new }}"\n{% endfor %}\n{{ url }}\n',
        "body_en": "Hello,\n\n{{ decided_by }} applied your request:\n\n"
        '{% for change in changes %}{{ change.field }}: "{{ change.old }}" replaced by "{{ change.new }}"\n{% endfor %}\n{{ url }}\n',
    },
    {
        "key": "crm-change-request-rejected",
        "description": "Change request rejected (to the requester)",
        "placeholders": "code, name, changes.field, changes.old, changes.new, decided_by, reason, url",
        "subject_fr": "[Modification Client] {{ code }} {{ name }} : refusée",
        "subject_en": "[Modification Client] {{ code }} {{ name }}: rejected",
        "body_fr": (
            "Bonjour,\n\n{{ decided_by }} a refusé votre demande :\n\n"
            '{% for change in changes %}{{ change.field }} : "{{ change.old }}" remplacé par "{{ change.new }}"\n{% endfor %}\nMotif : {{ reason }}\n\n{{ url }}\n'
        ),
        "body_en": (
            "Hello,\n\n{{ decided_by }} rejected your request:\n\n"
            '{% for change in changes %}{{ change.field }}: "{{ change.old }}" replaced by "{{ change.new }}"\n{% endfor %}\nReason: {{ reason }}\n\n{{ url }}\n'
        ),
    },
    {
        "key": "crm-conversion-requested",
        "description": "Client creation asked (to the accountant)",
        "placeholders": "name, requester, payment_mode, url",
        "subject_fr": "[Création Client] {{ name }}",
        "subject_en": "[Création Client] {{ name }}",
        "body_fr": (
            "Bonjour,\n\n{{ requester }} demande la création du client {{ name }} "
            "(règlement : {{ payment_mode }}).\n\nCompléter et valider la demande : {{ url }}\n"
        ),
        "body_en": (
            "Hello,\n\n{{ requester }} asks to create the client {{ name }} "
            "(payment: {{ payment_mode }}).\n\nComplete and validate the request: {{ url }}\n"
        ),
    },
    {
        "key": "crm-conversion-validated",
        "description": "Client created (to the requester)",
        "placeholders": "code, name, decided_by, url",
        "subject_fr": "[Création Client] {{ code }} {{ name }}",
        "subject_en": "[Création Client] {{ code }} {{ name }}",
        "body_fr": "Bonjour,\n\nLe client {{ code }} {{ name }} est créé ({{ decided_by }}).\n\n{{ url }}\n",
        "body_en": "Hello,\n\nThe client {{ code }} {{ name }} is created ({{ decided_by }}).\n\n{{ url }}\n",
    },
    {
        "key": "crm-conversion-rejected",
        "description": "Client creation rejected (to the requester)",
        "placeholders": "name, decided_by, reason, url",
        "subject_fr": "[Création Client] {{ name }} : refusée",
        "subject_en": "[Création Client] {{ name }}: rejected",
        "body_fr": "Bonjour,\n\n{{ decided_by }} a refusé la création du client {{ name }}.\n\nMotif : {{ reason }}\n\n{{ url }}\n",
        "body_en": "Hello,\n\n{{ decided_by }} rejected the creation of client {{ name }}.\n\nReason: {{ reason }}\n\n{{ url }}\n",
    },
]


def create_defaults(apps, schema_editor):
    alias = schema_editor.connection.alias
    ContactType = apps.get_model("crm", "ContactType")
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    for order, name in enumerate(CONTACT_TYPES):
        ContactType.objects.using(alias).get_or_create(name=name, defaults={"order": order})
    for template in TEMPLATES:
        fields = {k: v for k, v in template.items() if k != "key"}
        EmailTemplate.objects.using(alias).get_or_create(key=template["key"], defaults=fields)


def remove_templates(apps, schema_editor):
    EmailTemplate = apps.get_model("comadvisor", "EmailTemplate")
    EmailTemplate.objects.using(schema_editor.connection.alias).filter(
        key__in=[t["key"] for t in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("comadvisor", "0003_email_template"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.RunPython(create_defaults, remove_templates),
    ]
