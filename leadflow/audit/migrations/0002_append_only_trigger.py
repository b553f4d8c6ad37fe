"""Refuse UPDATE (both databases) and DELETE (PostgreSQL) of audit rows in the database.

SQLite gets no DELETE trigger because Django's test flush empties tables with DELETE;
the model and queryset refuse deletes there.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION leadflow_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'leadflow: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
FOR EACH ROW EXECUTE FUNCTION leadflow_refuse_change();
"""
PG_DOWN = "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;"
SQLITE_UP = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'leadflow: audit events are append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_event_append_only;"


def up(apps, schema_editor):
    sql = PG_UP if schema_editor.connection.vendor == "postgresql" else SQLITE_UP
    schema_editor.execute(sql, params=None)


def down(apps, schema_editor):
    sql = PG_DOWN if schema_editor.connection.vendor == "postgresql" else SQLITE_DOWN
    schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
