"""Uploaded files: checked on their bytes, named by the server, kept in the database."""

import hashlib
import io
import re
import unicodedata
import zipfile

import filetype
from flask import current_app, send_file

from .catalogue import lazy_gettext as _l
from .errors import Refused
from .models import Document

# Extension -> the MIME type the bytes must show. Office files are ZIP containers, told apart
# by what they contain.
ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_ZIP_MARKERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_ODF_TYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}


# What an uploaded office document may unpack to (its entries' declared sizes), and how many
# entries it may hold: far above any real document, far below what fills a worker's memory.
MAX_ARCHIVE_UNPACKED = 200 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 10_000


def _extension(filename):
    _, _, ext = (filename or "").rpartition(".")
    return ext.lower() if "." in (filename or "") else ""


def _bytes_are(ext, data):
    """Whether `data` really is a file of type `ext` (not just named so)."""
    if ext in ("docx", "xlsx", "odt", "ods"):
        if not zipfile.is_zipfile(io.BytesIO(data)):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                entries = archive.infolist()
                if len(entries) > MAX_ARCHIVE_ENTRIES or sum(e.file_size for e in entries) > MAX_ARCHIVE_UNPACKED:
                    raise Refused(
                        _l("This document unpacks to far more than an office document holds: it was not kept."),
                        field="file",
                    )
                names = {e.filename for e in entries}
                if ext in _ZIP_MARKERS:
                    return _ZIP_MARKERS[ext] in names
                if "mimetype" not in names:
                    return False
                with archive.open("mimetype") as marker:
                    # Read only what the marker can hold, whatever the entry claims to unpack to.
                    return marker.read(len(_ODF_TYPES[ext]) + 2).strip() == _ODF_TYPES[ext]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
            return False  # damaged, encrypted or of a compression nobody uses for office files
    kind = filetype.guess(data)
    return kind is not None and kind.mime == ALLOWED[ext]


def slug(text, limit=60):
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()[:limit] or "file"


def renamed(document, stem):
    """`stem` with the stored file's extension ("IFM-2026-0042-budget" -> "IFM-2026-0042-budget.pdf")."""
    return f"{stem}.{document.filename.rpartition('.')[2]}" if "." in document.filename else stem


def make_document(*, filename, data, stored_name, actor=None):
    """A Document for an upload, or Refused saying why not (size, type, forged extension)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise Refused(_l("The file is empty."), field="file")
    if len(data) > limit:
        raise Refused(_l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)), field="file")
    ext = _extension(filename)
    if ext not in ALLOWED:
        raise Refused(
            _l("Upload a PDF, an image (PNG, JPEG) or an office document (DOCX, XLSX, ODT, ODS)."), field="file"
        )
    if not _bytes_are(ext, data):
        raise Refused(
            _l("The file’s content does not match its “.%(ext)s” name: it was not accepted.", ext=ext), field="file"
        )
    ext = "jpg" if ext == "jpeg" else ext
    return Document(
        filename=f"{stored_name}.{ext}",
        content_type=ALLOWED[ext],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_by_id=actor.id if actor else None,
    )


def send_document(document, download_name=None):
    """Serve a stored file as a download, never rendered inline by the browser (under
    `download_name` when given: a name that follows the object it belongs to, else the stored one)."""
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=download_name or document.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def generated_document(filename, data, content_type="application/pdf"):
    """A Document for a file fundapp made itself (a receipt, a letter, a report)."""
    return Document(
        filename=filename, content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data
    )
