#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379), Chromium and npm are there for the
# tests: start them when they are installed but stopped, install them (Debian packages) when not.
set -euo pipefail

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
APT_UPDATED=0

say() { echo "ensure-services: $*"; }

apt_install() {
  if ! command -v apt-get >/dev/null; then
    say "cannot install $* here (no apt-get); install it and run make test again" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then "${SUDO[@]}" apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  say "nothing answers on 127.0.0.1:$1 after 30 s" >&2
  return 1
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su -s /bin/sh postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

# -- PostgreSQL ----------------------------------------------------------------------------
if port_open 5432; then
  say "PostgreSQL is up"
else
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing PostgreSQL"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    "${SUDO[@]}" pg_createcluster "$version" main
  fi
  say "starting PostgreSQL $version"
  "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port 5432
  # A fresh cluster asks TCP clients for a password: give postgres the one the tests use.
  as_postgres "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" || true
fi

# -- Redis ---------------------------------------------------------------------------------
if port_open 6379; then
  say "Redis is up"
else
  if ! command -v redis-server >/dev/null; then
    say "installing Redis"
    apt_install redis-server
  fi
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for_port 6379
fi

# -- Chromium for the browser tests --------------------------------------------------------
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  say "Chromium is installed"
else
  say "installing Chromium"
  apt_install chromium
fi

# -- npm, which installs axe-core for the accessibility tests (Makefile) -------------------
if command -v npm >/dev/null; then
  say "npm is installed"
else
  say "installing npm"
  apt_install npm
fi
