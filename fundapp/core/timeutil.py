"""Time is stored in UTC, timezone-aware; it is shown in the viewer's timezone."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def utcnow():
    return datetime.now(timezone.utc)


def as_utc(value):
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp that goes in and comes out as an aware UTC datetime on every database.

    SQLite has no timezone type; this keeps the value UTC there too, so comparisons with
    utcnow() hold on both the embedded default and PostgreSQL.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant (aware datetime) is required")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def is_valid_timezone(name):
    return name in _timezones()


_TZ_CACHE = None


def _timezones():
    global _TZ_CACHE
    if _TZ_CACHE is None:
        _TZ_CACHE = frozenset(available_timezones())
    return _TZ_CACHE


def timezone_choices():
    return sorted(_timezones())


def in_zone(value, tz_name):
    return as_utc(value).astimezone(ZoneInfo(tz_name))


def from_local(naive, tz_name):
    """The instant a wall-clock time names in tz_name (as typed in a form), in UTC."""
    if naive is None:
        return None
    return naive.replace(tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc)


def to_local_naive(instant, tz_name):
    """The wall-clock time of an instant in tz_name, for a datetime-local form field."""
    if instant is None:
        return None
    return in_zone(instant, tz_name).replace(tzinfo=None)
