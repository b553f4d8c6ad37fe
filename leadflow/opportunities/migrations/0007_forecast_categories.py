"""Forecast categories (DOMAIN.md §6.4): a default per stage, an override per lead.

The default stages get Salesforce-style defaults; stages an admin added stay
"pipeline" until the admin chooses otherwise."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DEFAULTS = {
    "qualification": "pipeline",
    "proposal": "best_case",
    "negotiation": "commit",
}


def default_categories(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    for code, category in DEFAULTS.items():
        Stage.objects.filter(code=code).update(forecast_category=category)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0006_workflow_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="forecast_category_override",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pipeline", "Pipeline"),
                    ("best_case", "Best case"),
                    ("commit", "Commit"),
                    ("closed", "Closed"),
                    ("omitted", "Omitted"),
                ],
                help_text="Empty: the stage's forecast category.",
                max_length=20,
                verbose_name="forecast category (set on the lead)",
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="forecast_category_set_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="forecast category set at"
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="forecast_category_set_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="forecast category set by",
            ),
        ),
        migrations.AddField(
            model_name="stage",
            name="forecast_category",
            field=models.CharField(
                choices=[
                    ("pipeline", "Pipeline"),
                    ("best_case", "Best case"),
                    ("commit", "Commit"),
                    ("closed", "Closed"),
                    ("omitted", "Omitted"),
                ],
                default="pipeline",
                help_text="The default for open leads in this stage; a lead may override it.",
                max_length=20,
                verbose_name="forecast category",
            ),
        ),
        migrations.AddConstraint(
            model_name="opportunity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "forecast_category_override__in",
                        ["", "pipeline", "best_case", "commit", "closed", "omitted"],
                    )
                ),
                name="opp_forecast_category_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="stage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "forecast_category__in",
                        ["pipeline", "best_case", "commit", "closed", "omitted"],
                    )
                ),
                name="stage_forecast_category_valid",
            ),
        ),
        # Reversed, the column goes with its AddField: nothing else to undo.
        migrations.RunPython(default_categories, migrations.RunPython.noop),
    ]
