"""Marketing lists and their members (consent shown; opted-out people are never listed)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from leadflow.core.pagination import IdPaginator
from leadflow.marketing.queries import get_list_for_user, lists_with_counts, members_of

PAGE_SIZE = 50


@login_required
def marketing_lists(request):
    return render(
        request, "marketing/lists.html", {"lists": lists_with_counts(request.user)}
    )


@login_required
def marketing_list_detail(request, list_id: int):
    marketing_list = get_list_for_user(request.user, list_id)
    page = IdPaginator(members_of(marketing_list), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "marketing/detail.html", {"list": marketing_list, "page": page}
    )
