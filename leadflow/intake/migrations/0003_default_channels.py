"""The channels of SPEC step 1; an admin can rename, reorder and add to them."""

from django.db import migrations

CHANNELS = [
    ("phone", "Phone", "Telefoon", False),
    ("email", "E-mail", "E-mail", False),
    ("web_form", "Web form", "Webformulier", False),
    ("telemarketing", "Telemarketing", "Telemarketing", True),
    ("prospecting_visit", "Prospecting visit", "Prospectiebezoek", True),
    ("event", "Event", "Evenement", True),
    ("referral", "Referral", "Doorverwijzing", False),
    ("existing_customer", "Existing customer", "Bestaande klant", False),
    ("other", "Other", "Andere", False),
]


def add(apps, schema_editor):
    Channel = apps.get_model("intake", "Channel")
    for order, (code, name, name_nl, prompted) in enumerate(CHANNELS, start=1):
        Channel.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_nl": name_nl, "order": order,
                      "prompted_by_default": prompted},
        )


def remove(apps, schema_editor):
    apps.get_model("intake", "Channel").objects.filter(
        code__in=[c[0] for c in CHANNELS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_closed_inquiry_immutable_trigger")]
    operations = [migrations.RunPython(add, remove)]
