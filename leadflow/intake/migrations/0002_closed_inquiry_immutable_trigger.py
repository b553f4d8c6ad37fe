"""A closed inquiry can never change: the database refuses any UPDATE of its content.

Only the contact/company references may still move (a later contact merge needs it).
"""

from django.db import migrations

GUARDED = [
    "status",
    "outcome",
    "summary",
    "channel_id",
    "campaign_id",
    "referrer",
    "prompted",
    "received_by_id",
    "department_id",
    "received_at",
    "assignee_id",
    "close_reason",
    "closed_at",
    "closed_by_id",
    "created_by_id",
]


def _changed(vendor: str) -> str:
    op = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    return " OR ".join(f"NEW.{c} {op} OLD.{c}" for c in GUARDED)


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION leadflow_closed_inquiry_guard() RETURNS trigger AS $$
            BEGIN
              IF OLD.status = 'closed' AND ({_changed(vendor)}) THEN
                RAISE EXCEPTION 'leadflow: inquiry % is closed and immutable', OLD.id
                  USING ERRCODE = 'integrity_constraint_violation';
              END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER inquiry_closed_immutable BEFORE UPDATE ON intake_inquiry
            FOR EACH ROW EXECUTE FUNCTION leadflow_closed_inquiry_guard();
            """,
            params=None,
        )
    else:
        schema_editor.execute(
            f"""
            CREATE TRIGGER inquiry_closed_immutable BEFORE UPDATE ON intake_inquiry
            WHEN OLD.status = 'closed' AND ({_changed(vendor)})
            BEGIN SELECT RAISE(ABORT, 'leadflow: closed inquiries are immutable'); END;
            """
        )


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS inquiry_closed_immutable ON intake_inquiry;"
        )
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS inquiry_closed_immutable;")


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
