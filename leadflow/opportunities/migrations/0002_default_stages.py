"""Default stages (SPEC API codes) with the DOMAIN.md §6.2 weights; admin-editable."""

from decimal import Decimal

from django.db import migrations

STAGES = [
    ("qualification", "Qualification", "Kwalificatie", Decimal("0.25")),
    ("proposal", "Proposal / quote", "Voorstel / offerte", Decimal("0.50")),
    ("negotiation", "Negotiation", "Onderhandeling", Decimal("0.75")),
]


def add(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    for order, (code, name, name_nl, weight) in enumerate(STAGES, start=1):
        Stage.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_nl": name_nl,
                "order": order * 10,
                "weight": weight,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("opportunities", "Stage").objects.filter(
        code__in=[s[0] for s in STAGES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
