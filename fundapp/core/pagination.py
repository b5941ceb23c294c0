"""Pages of a list: a page number beyond the last shows the last page (never an empty list)."""

from ..extensions import db


def page_within(page, total, per_page):
    """(page, pages): how many pages `total` rows make (at least one), and `page` brought within them."""
    pages = max(1, -(-total // per_page))
    return min(max(1, page), pages), pages


def paginate(stmt, page, per_page, *, total=None):
    """A page of `stmt`. `total`: the number of rows, when the page has already counted them (its
    figures come from a grouped query): no count query is run, and a page beyond the last is
    known before reading it."""
    if total is not None:
        page, _pages = page_within(page, total, per_page)
        result = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=False)
        result.total = total
        return result
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if page > 1 and not result.items and result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=per_page, error_out=False)
    return result


class ListPage:
    """A page of a list already in memory (a ranking computed whole), with what a page of
    `paginate` offers and the `pagination` macro reads: items, page, pages, total, prev/next."""

    def __init__(self, items, page, per_page):
        self.total, self.per_page = len(items), per_page
        self.page, self.pages = page_within(page, self.total, per_page)
        self.first = (self.page - 1) * per_page + 1  # the position of the page's first item
        self.items = items[self.first - 1 : self.first - 1 + per_page]

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def next_num(self):
        return self.page + 1
