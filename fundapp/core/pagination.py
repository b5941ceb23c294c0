"""Pages of a list: a page number beyond the last shows the last page (never an empty list)."""

from ..extensions import db


def paginate(stmt, page, per_page):
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if page > 1 and not result.items and result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=per_page, error_out=False)
    return result
