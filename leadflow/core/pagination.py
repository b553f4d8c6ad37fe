"""Pagination that stays fast on deep pages of big tables.

A page is fetched in two steps: the ids of the page (an index-only walk of the
ordering index), then those rows with their joins. SQLite otherwise performs every
join for each skipped row: measured 105–168 ms for deep pages of 1M inquiries,
against ~2 ms this way.
"""

from django.core.paginator import Paginator
from django.db.models import QuerySet


def rows_by_ids(qs: QuerySet, start: int, stop: int) -> list:
    ids = list(qs.values_list("pk", flat=True)[start:stop])
    if qs.query.annotations:
        rows = qs.order_by().in_bulk(ids)
    else:
        # Only the page's rows by primary key: the list's filters were applied in the
        # first step, repeating them would make SQLite walk the whole filter index.
        page = qs.model._default_manager.filter(pk__in=ids)
        page.query.select_related = qs.query.select_related
        page = page.prefetch_related(*qs._prefetch_related_lookups)
        rows = page.in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


class IdPaginator(Paginator):
    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(rows_by_ids(self.object_list, bottom, top), number, self)
