"""Sanctions move from the discussion app to accounts. The table (discussion_sanction) stays where it is: this
migration only tells Django's state that accounts owns it now, and hands the content type (so permissions and admin
history) over. discussion.0004 drops the model from the discussion state."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="accounts", model="sanction").exists():
        ContentType.objects.using(db).filter(app_label="discussion", model="sanction").update(app_label="accounts")


def return_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="discussion", model="sanction").exists():
        ContentType.objects.using(db).filter(app_label="accounts", model="sanction").update(app_label="discussion")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("discussion", "0003_comment_changed_quoted"),  # the table was created there
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Sanction",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("silence", "Silenced"), ("suspend", "Suspended")], max_length=10)),
                        ("reason", models.CharField(max_length=300)),
                        ("starts", models.DateTimeField(default=django.utils.timezone.now)),
                        ("ends", models.DateTimeField()),
                        ("lifted", models.DateTimeField(blank=True, null=True)),
                        ("moderator", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sanctions", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "discussion_sanction",
                        "ordering": ["-ends"],
                        "indexes": [models.Index(fields=["user", "kind", "ends"], name="discussion__user_id_51165e_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, return_content_type),
    ]
