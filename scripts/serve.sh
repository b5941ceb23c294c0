#!/usr/bin/env bash
# Serve fundapp on http://127.0.0.1:5000. With FUNDAPP_REDIS_URL set, an RQ worker (with the
# scheduler) runs beside the web server and stops with it; without it, jobs run in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
FLASK=(.venv/bin/flask --app wsgi)
if [ -n "${FUNDAPP_REDIS_URL:-}" ]; then
  "${FLASK[@]}" rq worker &
  worker=$!
  trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
  echo "RQ worker started (pid $worker) on $FUNDAPP_REDIS_URL"
fi
echo "fundapp on http://127.0.0.1:5000 (database: ${FUNDAPP_DATABASE_URL:-SQLite in instance/})"
"${FLASK[@]}" run --host 127.0.0.1 --port 5000
