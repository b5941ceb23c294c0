"""gunicorn's configuration for production: `.venv/bin/gunicorn wsgi:app` reads this file.

fundapp's requests wait mostly on PostgreSQL, Redis and argon2, so each worker process runs
threads: with two processes per core and four threads each, 200 cities saving and submitting in a
call's last minute are answered in well under a second on two cores (see `make bench`).
Every value can be changed with a FUNDAPP_* variable.
"""

import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


# Behind the TLS proxy by default (127.0.0.1:8000); FUNDAPP_BIND=0.0.0.0:8000 to listen on all.
bind = os.environ.get("FUNDAPP_BIND", "127.0.0.1:8000")
workers = _int("FUNDAPP_WEB_WORKERS", max(2, multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = _int("FUNDAPP_WEB_THREADS", 4)
# A request that takes longer than this is stuck: its worker is replaced (uploads are at most 20 MB).
timeout = _int("FUNDAPP_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Replace each worker after this many requests (with jitter), so no slow leak grows for ever.
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("FUNDAPP_ACCESS_LOG", "-")
errorlog = "-"
# The proxy's address and protocol arrive as X-Forwarded-*: fundapp trusts them only from
# FUNDAPP_TRUSTED_PROXIES proxies (werkzeug's ProxyFix), so gunicorn's own check is left open.
forwarded_allow_ips = "*"


def post_fork(server, worker):
    """Large allocations (argon2's 19 MiB per sign-in, a big page's buffers) go straight to the
    system and back when freed. glibc otherwise raises its mmap threshold after the first such free
    and keeps later ones in each thread's arena: a worker's threads signing people in would hold
    some 80 MiB for good. (glibc only; elsewhere nothing changes.)"""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_mmap_threshold = -3  # mallopt's M_MMAP_THRESHOLD; setting it also stops its dynamic raise
    libc.mallopt(m_mmap_threshold, 1024 * 1024)


def post_worker_init(worker):
    """Once the worker has loaded fundapp: its long-lived objects (modules, templates, the mapper
    configuration) are frozen out of the cyclic garbage collector, and young collections run every
    50,000 allocations instead of 700. A page that reads thousands of rows (the ranking of a large
    call) otherwise spends a fifth of its time in collections that find almost nothing."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
