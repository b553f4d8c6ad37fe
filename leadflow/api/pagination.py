"""One pagination shape for every list: {items, count, page, page_size, pages}."""

from math import ceil

from django.db.models import QuerySet
from ninja import Field, Schema

from leadflow.core.pagination import rows_by_ids

MAX_PAGE_SIZE = 200


class PageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def paginate(qs: QuerySet, params: PageParams, transform=lambda obj: obj) -> dict:
    count = qs.count()
    start = (params.page - 1) * params.page_size
    items = [transform(obj) for obj in rows_by_ids(qs, start, start + params.page_size)]
    return {
        "items": items,
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "pages": ceil(count / params.page_size) if count else 0,
    }
