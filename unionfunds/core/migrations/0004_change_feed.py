"""What the change triggers of every tracked table share (``unionfunds.core.changes``): the trigger function on
PostgreSQL, the counter table on SQLite. Each app's migration attaches the triggers with ``TrackChanges``."""

from django.db import migrations

from unionfunds.core.changes import shared_sql


def forwards(apps, schema_editor):
    for sql in shared_sql(schema_editor.connection.vendor)[0]:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    for sql in shared_sql(schema_editor.connection.vendor)[1]:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
