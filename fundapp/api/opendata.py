"""The fund's open data: the funded projects whose cities consented to publication, in the
360Giving Data Standard (JSON package and CSV), made from the current data on each request.

Each answer carries an ETag (a digest of its body) and a Last-Modified: a client that polls with
If-None-Match (or If-Modified-Since) gets a 304 with no body while nothing has changed.
"""

import hashlib
import json

from flask import Blueprint, Response, request

from ..reporting.public import all_funded_projects, last_change
from . import threesixty

bp = Blueprint("open_data", __name__)

# Whoever polls must ask again each time (the answer changes as soon as a city withdraws its consent).
CACHE_CONTROL = "public, no-cache"


def _records():
    """(the grant records, when the published set last changed)."""
    projects = all_funded_projects(language="en")
    instants = [p.modified_at for p in projects]
    changed = last_change()
    if changed is not None:
        instants.append(changed)
    return projects, (max(instants) if instants else None)


def _conditional(body, mimetype, modified, **headers):
    response = Response(body, mimetype=mimetype, headers=headers)
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest())
    if modified is not None:
        response.last_modified = modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response.make_conditional(request)


@bp.route("/open-data/360giving.json")
def threesixty_json():
    projects, modified = _records()
    data = threesixty.package(projects, modified=modified)
    body = json.dumps(data, ensure_ascii=False, indent=1)
    return _conditional(body, "application/json", modified)


@bp.route("/open-data/360giving.csv")
def threesixty_csv():
    projects, modified = _records()
    body = threesixty.csv_text([threesixty.grant_record(p) for p in projects])
    return _conditional(
        body,
        "text/csv",
        modified,
        **{"Content-Disposition": "attachment; filename=metropolis-fund-360giving.csv"},
    )
