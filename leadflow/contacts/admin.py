from django.contrib import admin

from leadflow.contacts.actions import (
    EDITABLE_COMPANY_FIELDS,
    find_or_create_company,
    update_company,
)
from leadflow.contacts.models import Company, Complaint, Invoice, SalesRecord


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    """Lifecycle flags of companies (customer, ex-customer, key prospect) are kept here."""

    list_display = ("name", "lifecycle", "is_key_prospect", "size", "industry", "city")
    list_filter = ("lifecycle", "is_key_prospect", "country")
    search_fields = ("name_key",)
    fields = (
        "name",
        "size",
        "industry",
        "country",
        "street",
        "postcode",
        "city",
        "vat_number",
        "website",
        "lifecycle",
        "is_key_prospect",
    )
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        """Go through the actions so the change is audited and the match keys stay right."""
        if change:
            values = {f: form.cleaned_data[f] for f in EDITABLE_COMPANY_FIELDS}
            updated = update_company(obj, actor=request.user, **values)
            obj.pk = updated.pk
        else:
            created = find_or_create_company(
                obj.name, actor=request.user, size=obj.size, country=obj.country
            )
            others = {
                f: form.cleaned_data[f] for f in EDITABLE_COMPANY_FIELDS if f != "name"
            }
            update_company(created, actor=request.user, **others)
            obj.pk = created.pk


class CustomerContextAdmin(admin.ModelAdmin):
    """Customer context shown on qualified leads (entered here or imported)."""

    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    show_full_result_count = False


@admin.register(Invoice)
class InvoiceAdmin(CustomerContextAdmin):
    list_display = ("number", "company", "due_on", "amount", "paid_on")
    list_filter = ("paid_on",)


@admin.register(Complaint)
class ComplaintAdmin(CustomerContextAdmin):
    list_display = ("subject", "company", "opened_on", "resolved_on")


@admin.register(SalesRecord)
class SalesRecordAdmin(CustomerContextAdmin):
    list_display = ("company", "year", "revenue")
