"""Forecast snapshots and their lines (DOMAIN.md §6.5)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_user_email_digest'),
        ('opportunities', '0007_forecast_categories'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ForecastSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('taken_at', models.DateTimeField(verbose_name='taken at')),
                ('taken_on', models.DateField(verbose_name='taken on')),
                ('kind', models.CharField(choices=[('auto', 'Automatic'), ('manual', 'Manual')], max_length=10, verbose_name='kind')),
                ('line_count', models.PositiveIntegerField(default=0, verbose_name='open leads')),
                ('unweighted', models.DecimalField(decimal_places=2, default=0, max_digits=18, verbose_name='unweighted total')),
                ('weighted', models.DecimalField(decimal_places=2, default=0, max_digits=18, verbose_name='weighted total')),
                ('taken_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='taken by')),
            ],
            options={
                'verbose_name': 'forecast snapshot',
                'verbose_name_plural': 'forecast snapshots',
                'ordering': ['-taken_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ForecastSnapshotLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('p_win', models.DecimalField(blank=True, decimal_places=3, max_digits=4, null=True)),
                ('p_go', models.DecimalField(blank=True, decimal_places=3, max_digits=4, null=True)),
                ('weight', models.DecimalField(decimal_places=6, max_digits=8)),
                ('category', models.CharField(blank=True, choices=[('pipeline', 'Pipeline'), ('best_case', 'Best case'), ('commit', 'Commit'), ('closed', 'Closed'), ('omitted', 'Omitted')], max_length=20)),
                ('decision_date', models.DateField(blank=True, null=True)),
                ('service_type', models.CharField(blank=True, max_length=100)),
                ('opportunity', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='opportunities.opportunity')),
                ('owner', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('snapshot', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='analytics.forecastsnapshot')),
                ('stage', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='opportunities.stage')),
                ('team', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.team')),
            ],
            options={
                'verbose_name': 'forecast snapshot line',
                'verbose_name_plural': 'forecast snapshot lines',
            },
        ),
        migrations.AddIndex(
            model_name='forecastsnapshot',
            index=models.Index(fields=['-taken_at', '-id'], name='snapshot_taken'),
        ),
        migrations.AddConstraint(
            model_name='forecastsnapshot',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'auto')), fields=('taken_on',), name='forecast_snapshot_one_auto_per_day'),
        ),
        migrations.AddConstraint(
            model_name='forecastsnapshotline',
            constraint=models.UniqueConstraint(fields=('snapshot', 'opportunity'), name='snapshot_line_once'),
        ),
    ]
