"""The "curator" group: staff who tend the prompt bank and can reach nothing else.

Exactly these permissions: add, change, delete and view prompts, and view a prompt's
edit history. Permissions are normally created after `migrate` (post_migrate), so this
migration creates the prompts app's permissions first, on the migration's own
historical models. Reversing it removes the group (the permissions stay, as they would
after any migrate).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "curator"
# (app label, model, codename)
CURATOR_PERMISSIONS = (
    ("prompts", "prompt", "add_prompt"),
    ("prompts", "prompt", "change_prompt"),
    ("prompts", "prompt", "delete_prompt"),
    ("prompts", "prompt", "view_prompt"),
    ("prompts", "historicalprompt", "view_historicalprompt"),
)


def create_curator_group(apps, schema_editor):
    db = schema_editor.connection.alias
    app_config = apps.get_app_config("prompts")
    # create_permissions() skips an app config without a models module, which is what
    # the historical app registry hands a migration; restore it afterwards.
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, verbosity=0, interactive=False, using=db, apps=apps)
    finally:
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = [
        Permission.objects.using(db).get(
            content_type__app_label=app_label, content_type__model=model, codename=codename
        )
        for app_label, model, codename in CURATOR_PERMISSIONS
    ]
    group, _ = Group.objects.using(db).get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)  # exactly these, even if the group existed


def remove_curator_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("prompts", "0002_dailyquestion_historicalprompt_questionanswer_and_more"),
    ]

    operations = [
        migrations.RunPython(create_curator_group, remove_curator_group, elidable=False),
    ]
