from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import ApiToken, Department, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "department",
                    "is_active")
    list_filter = ("role", "team", "department", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Leadflow"), {"fields": ("role", "team", "department", "language")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("Leadflow"), {"fields": ("role", "team", "department")}),
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

    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at",
                    "last_used_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "expires_at",
                       "last_used_at")
    fields = readonly_fields + ("revoked_at",)

    def has_add_permission(self, request):
        return False
