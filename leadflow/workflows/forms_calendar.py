"""Forms of the settings pages; they parse input, the rules live in
workflows.calendar_settings."""

from datetime import datetime
from zoneinfo import available_timezones

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.core.models import WorkingCalendar
from leadflow.workflows.calendar_settings import (
    COUNTRIES,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_STALE_DAYS,
)
from leadflow.workflows.models import EscalationKind, EscalationStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
HOURS = forms.NumberInput(attrs={"min": "0.01", "max": "9999.99", "step": "0.01"})


def time_zone_choices() -> list[tuple[str, str]]:
    return [
        ("", _("The server's time zone")),
        *((z, z) for z in sorted(available_timezones())),
    ]


class VersionField(forms.CharField):
    """The ``updated_at`` the editor read (ISO 8601); empty = not saved yet."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(_("Reload the page and try again.")) from None
        if timezone.is_naive(parsed):
            raise forms.ValidationError(_("Reload the page and try again."))
        return parsed


def version_of(row) -> str:
    return row.updated_at.isoformat() if row.pk and row.updated_at else ""


class WorkingCalendarForm(forms.Form):
    updated_at = VersionField()
    monday = forms.BooleanField(label=_("Monday"), required=False)
    tuesday = forms.BooleanField(label=_("Tuesday"), required=False)
    wednesday = forms.BooleanField(label=_("Wednesday"), required=False)
    thursday = forms.BooleanField(label=_("Thursday"), required=False)
    friday = forms.BooleanField(label=_("Friday"), required=False)
    saturday = forms.BooleanField(label=_("Saturday"), required=False)
    sunday = forms.BooleanField(label=_("Sunday"), required=False)
    starts_at = forms.TimeField(label=_("Working day starts"), widget=TIME)
    ends_at = forms.TimeField(label=_("Working day ends"), widget=TIME)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), required=False, choices=time_zone_choices
    )

    @classmethod
    def for_row(cls, row: WorkingCalendar, data=None) -> "WorkingCalendarForm":
        initial = {name: getattr(row, name) for name in WorkingCalendar.DAYS}
        initial.update(
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            time_zone=row.time_zone,
            updated_at=version_of(row),
        )
        return cls(data, initial=initial)

    def day_fields(self):
        return [self[name] for name in WorkingCalendar.DAYS]

    def values(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("updated_at")
        return d


class HolidayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=DATE)
    name = forms.CharField(label=_("Name"), max_length=100)


class PublicHolidaysForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR
    )
    country = forms.ChoiceField(label=_("Country"), choices=list(COUNTRIES.items()))


class EscalationSettingsForm(forms.Form):
    updated_at = VersionField()
    inquiry_after_hours = forms.DecimalField(
        label=_("Remind the assignee of an open inquiry after (working hours)"),
        required=False,
        max_digits=6,
        decimal_places=2,
        widget=HOURS,
        help_text=_("Empty: inquiries do not escalate."),
    )
    manager_after_hours = forms.DecimalField(
        label=_("Then tell a manager after (more working hours)"),
        required=False,
        max_digits=6,
        decimal_places=2,
        widget=HOURS,
        help_text=_("Empty: only the assignee is reminded."),
    )
    remind_overdue_activities = forms.BooleanField(
        label=_("Remind assignees of overdue activities"), required=False
    )
    remind_stale_leads = forms.BooleanField(
        label=_("Remind owners of qualified leads without activity"), required=False
    )

    @classmethod
    def for_row(cls, row, data=None) -> "EscalationSettingsForm":
        initial = {
            "inquiry_after_hours": row.inquiry_after_hours,
            "manager_after_hours": row.manager_after_hours,
            "remind_overdue_activities": row.remind_overdue_activities,
            "remind_stale_leads": row.remind_stale_leads,
            "updated_at": version_of(row),
        }
        return cls(data, initial=initial)

    def values(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("updated_at")
        return d


class StaleLimitForm(forms.Form):
    stale_after_days = forms.IntegerField(
        label=_("Days without activity"),
        required=False,
        min_value=1,
        max_value=MAX_STALE_DAYS,
        widget=forms.NumberInput(
            attrs={
                "min": 1,
                "max": MAX_STALE_DAYS,
                "aria-label": _("Days without activity"),
            }
        ),
    )


class EscalationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *EscalationStatus.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any kind")), *EscalationKind.choices],
    )
