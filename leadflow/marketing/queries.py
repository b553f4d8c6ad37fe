"""Read-only access to marketing lists."""

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from leadflow.accounts.models import User
from leadflow.accounts.permissions import require
from leadflow.contacts.models import Contact
from leadflow.marketing.models import MarketingList


def list_names_for(contact: Contact) -> list[str]:
    return list(
        MarketingList.objects.filter(memberships__contact=contact)
        .order_by("name")
        .values_list("name", flat=True)
    )


def active_lists() -> QuerySet[MarketingList]:
    return MarketingList.objects.filter(is_active=True).order_by("name")


def lists_with_counts(user: User) -> QuerySet[MarketingList]:
    require(user, "marketing.view")
    return MarketingList.objects.annotate(member_count=Count("memberships")).order_by(
        "name"
    )


def get_list_for_user(user: User, list_id: int) -> MarketingList:
    require(user, "marketing.view")
    return get_object_or_404(MarketingList, pk=list_id)


def members_of(marketing_list: MarketingList) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(list_memberships__marketing_list=marketing_list)
        .select_related("company")
        .order_by("name_key", "id")
    )
