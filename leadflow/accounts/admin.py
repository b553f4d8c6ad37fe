from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import ApiToken, Department, Team, User
from leadflow.audit.actions import record_event


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "team",
        "department",
        "capacity",
        "is_active",
    )
    list_filter = ("role", "team", "department", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            _("Leadflow"),
            {"fields": ("role", "team", "department", "language", "capacity")},
        ),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("Leadflow"), {"fields": ("role", "team", "department")}),
    )

    def save_model(self, request, obj, form, change):
        """Role, team, department and access changes land on the user's timeline."""
        watched = (
            "role",
            "team",
            "department",
            "capacity",
            "is_active",
            "is_staff",
            "is_superuser",
        )
        old = {}
        if change:
            before = User.objects.get(pk=obj.pk)
            old = {f: getattr(before, f) for f in watched}
        super().save_model(request, obj, form, change)
        new = {f: getattr(obj, f) for f in watched}
        changed = (
            {f for f in watched if old.get(f) != new[f]} if change else set(watched)
        )
        if changed:
            record_event(
                actor=request.user,
                subject=obj,
                event_type="user.changed" if change else "user.created",
                old={f: old.get(f) for f in changed} if change else None,
                new={f: new[f] for f in changed},
            )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (shown once); revoke here."""

    list_display = (
        "prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "key_hash",
        "created_at",
        "expires_at",
        "last_used_at",
    )
    fields = readonly_fields + ("revoked_at",)

    def has_add_permission(self, request):
        return False
