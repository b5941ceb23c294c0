"""The sign-in limits, counted before the password is checked.

Every attempt takes its place in a moving window (per account and per address) first, in one
atomic step of the store (a Lua script on Redis), so a burst of parallel guesses cannot get more
checks than the limit. A good password then clears the account's window. When the store cannot
be reached, the limits are kept in this process's memory instead and the fault is logged, so
people can still sign in while Redis is down.
"""

import logging
import threading

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

_lock = threading.Lock()
_limiters = {}
_fallback = MovingWindowRateLimiter(MemoryStorage())


def _limiter():
    uri = current_app.config["RATELIMIT_STORAGE_URI"]
    with _lock:
        if uri not in _limiters:
            options = {} if uri.startswith("memory") else {"socket_connect_timeout": 1, "socket_timeout": 1}
            _limiters[uri] = MovingWindowRateLimiter(storage_from_string(uri, **options))
        return _limiters[uri]


def _prefixed(scope, key):
    return (current_app.config["RATELIMIT_KEY_PREFIX"], scope, key)


def _run(method, *args):
    try:
        return getattr(_limiter(), method)(*args)
    except Exception:  # the store is unreachable: count in memory rather than refuse everybody
        log.exception("the sign-in limiter's store is unreachable; counting in this process's memory")
        return getattr(_fallback, method)(*args)


def take(scope, key, limit):
    """Count one attempt; False when the window is already full (the attempt must be refused)."""
    return _run("hit", parse(limit), *_prefixed(scope, key))


def clear(scope, key, limit):
    _run("clear", parse(limit), *_prefixed(scope, key))


def reset_memory():
    """Tests: forget what was counted in this process's memory."""
    with _lock:
        for limiter in [_fallback, *_limiters.values()]:
            if isinstance(limiter.storage, MemoryStorage):
                limiter.storage.reset()


def allows(scope, key, limit):
    """Whether one more attempt fits in the window, without counting one (for limits that count
    only failures, checked before the attempt)."""
    return _run("test", parse(limit), *_prefixed(scope, key))
