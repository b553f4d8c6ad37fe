"""Default gate (5 of 8, DOMAIN.md §3.1) and the buying-clock phases of DOMAIN.md §5.3."""

from django.db import migrations

PHASES = [
    (1, "Satisfied / status quo", "Tevreden / status quo",
     "No perceived need; happy with the current situation or supplier",
     "Keep in touch, share useful insight, nurture. Do not push a quote.",
     "Contact houden, nuttige inzichten delen, laten opvolgen door marketing. Geen offerte pushen."),
    (2, "Problem recognised", "Probleem erkend",
     "Notices dissatisfaction; 'we need to do something'",
     "Diagnose the problem, quantify pain and impact, find out who else is affected.",
     "Het probleem diagnosticeren, pijn en impact becijferen, nagaan wie nog betrokken is."),
    (3, "Exploring solutions", "Oplossingen verkennen",
     "Looks at options, including doing nothing or doing it in-house",
     "Teach, present approaches and cases, establish our originality.",
     "Kennis delen, aanpakken en cases tonen, onze eigenheid duidelijk maken."),
    (4, "Requirements & budget", "Eisen & budget",
     "Writes a specification, builds a business case, looks for budget",
     "Help shape the requirements, run SCOTSMAN, support the business case.",
     "Mee de eisen vormgeven, SCOTSMAN doorlopen, de business case ondersteunen."),
    (5, "Supplier selection", "Leveranciers kiezen",
     "Shortlists suppliers, asks for proposals or demos",
     "Demo, site visit, quote (only if qualified), references.",
     "Demo, bedrijfsbezoek, offerte (alleen als gekwalificeerd), referenties."),
    (6, "Validation & consensus", "Valideren & consensus",
     "Checks the choice (references, ROI, risk) and aligns the buying group",
     "References, ROI evidence, reach every stakeholder, address objections.",
     "Referenties, bewijs van rendement, elke beslissingsnemer bereiken, bezwaren weerleggen."),
    (7, "Decision & purchase", "Besluit & inkoop",
     "Negotiates, runs procurement and legal, signs",
     "Negotiate, handle the paper process, close.",
     "Onderhandelen, de administratieve afhandeling begeleiden, afsluiten."),
    (8, "Implement & evaluate", "Invoeren & evalueren",
     "Implements the purchase and judges whether it delivered",
     "Deliver well, review results, ask for a reference, look for follow-up needs.",
     "Goed leveren, resultaten evalueren, om een referentie vragen, nieuwe behoeften zoeken."),
]


def add(apps, schema_editor):
    apps.get_model("qualification", "QualificationSettings").objects.get_or_create(pk=1)
    BuyingPhase = apps.get_model("qualification", "BuyingPhase")
    for position, name, name_nl, activity, actions, actions_nl in PHASES:
        BuyingPhase.objects.update_or_create(
            position=position,
            defaults={
                "name": name,
                "name_nl": name_nl,
                "buyer_activity": activity,
                "sales_actions": actions,
                "sales_actions_nl": actions_nl,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("qualification", "BuyingPhase").objects.filter(
        position__in=[p[0] for p in PHASES]
    ).delete()
    apps.get_model("qualification", "QualificationSettings").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [("qualification", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
