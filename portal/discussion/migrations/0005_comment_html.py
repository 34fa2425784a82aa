from django.conf import settings
from django.db import migrations, models

from portal.discussion.rendering import comment_html_backfill


def backfill(apps, schema_editor):
    comment_html_backfill(model=apps.get_model("discussion", "Comment"))


class Migration(migrations.Migration):

    dependencies = [
        ('discussion', '0004_sanction_to_accounts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='comment',
            name='html',
            field=models.TextField(blank=True, default='', editable=False),
        ),
        migrations.AddField(
            model_name='comment',
            name='html_version',
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['thread', 'parent', 'created'], name='discussion_thread_top_idx'),
        ),
        # Existing comments get their HTML now; later renderer versions are re-rendered after each `migrate`.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
