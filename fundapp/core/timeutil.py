"""Time is stored in UTC, timezone-aware; it is shown in the viewer's timezone."""

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# The instant the code takes as "now" while the demo fund replays its history (`clock_at`);
# unset everywhere else, so requests and jobs always read the real clock.
_replayed_now: ContextVar = ContextVar("fundapp_replayed_now", default=None)
# Replays begun and still running in this process, in any thread: a cache of figures validated by
# timestamps (the ranking's criterion means) keeps no entry across a replay (see `replays`).
_replays = {"begun": 0, "running": 0}
_replays_lock = threading.Lock()


def utcnow():
    replayed = _replayed_now.get()
    return replayed if replayed is not None else datetime.now(timezone.utc)


@contextmanager
def clock_at(instant):
    """Run the enclosed operations as if it were `instant` (an aware datetime, in the past).

    Used to build a fund with a history (the demo, test factories) through the real operations,
    so every timestamp, deadline check and ledger date is the one a real run would have written.
    """
    if instant.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    if instant > datetime.now(timezone.utc):
        raise ValueError("clock_at only replays the past")
    with _replays_lock:
        _replays["begun"] += 1
        _replays["running"] += 1
    token = _replayed_now.set(instant.astimezone(timezone.utc))
    try:
        yield instant
    finally:
        _replayed_now.reset(token)
        with _replays_lock:
            _replays["running"] -= 1


def replays():
    """(whether a replay runs now in this process, in any thread; how many have begun in it).

    Writes made under a replay carry past instants, so timestamps no longer grow with every write:
    a cache validated by timestamps makes no entry while one runs and keeps none made before one."""
    with _replays_lock:
        return _replays["running"] > 0, _replays["begun"]


def as_utc(value):
    """An aware datetime in UTC; a naive one is taken to be UTC already."""
    if value is None:
        return None
    tzinfo = value.tzinfo
    if tzinfo is None or tzinfo is timezone.utc:
        return value if tzinfo else value.replace(tzinfo=timezone.utc)
    if not tzinfo.utcoffset(value):
        # The database's own UTC zone object: same instant, without astimezone's zone arithmetic.
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
