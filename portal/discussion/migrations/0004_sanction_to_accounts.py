"""Sanctions now belong to portal.accounts (accounts.0002 took the model over with the same table): drop the model
from the discussion state only — the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("discussion", "0003_comment_changed_quoted"),
        ("accounts", "0002_sanction_from_discussion"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Sanction")],
            database_operations=[],
        ),
    ]
