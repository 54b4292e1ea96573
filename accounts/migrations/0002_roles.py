"""Create one group per role of the declarative table (permissions are granted after migrate)."""

from django.db import migrations

from accounts.roles import ROLES


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=str(role.name))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
