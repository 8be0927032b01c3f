#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis that the tests use are running on
# 127.0.0.1, starting (or, where absent, installing) them, and that
# Chromium is installed for the browser tests. Fails loudly.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg_up() { pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $*"
  as_root apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# PostgreSQL
installed_pg=no
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgresql postgresql-client
  installed_pg=yes
fi
if ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || die "no PostgreSQL cluster in /etc/postgresql"
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || die "PostgreSQL did not start"
fi
for _ in $(seq 1 30); do pg_up && break; sleep 1; done
pg_up || die "PostgreSQL is not answering on $PGHOST:$PGPORT"
if ! psql -h "$PGHOST" -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  # Only a cluster this script just installed is opened up for the tests;
  # an existing one is the operator's to configure.
  [ "$installed_pg" = yes ] || die "cannot connect as postgres on $PGHOST without a password: set UNIONHUB_TEST_DATABASE_URL or allow trust for the test machine"
  # A fresh package install asks for passwords; the tests use trust on loopback.
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  log "allowing trust authentication on 127.0.0.1 in $hba"
  as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
  psql -h "$PGHOST" -U postgres -d postgres -Atc 'select 1' >/dev/null || die "cannot connect to PostgreSQL as postgres"
fi
if [ "$(psql -h "$PGHOST" -U postgres -d postgres -Atc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  log "creating database test"
  createdb -h "$PGHOST" -U postgres test || die "cannot create database test"
fi

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server redis-tools
fi
if ! redis_up; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || die "Redis did not start"
fi
for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
redis_up || die "Redis is not answering on 127.0.0.1:6379"

# Chromium, for the console's browser tests (Debian's package).
CHROMIUM=${UNIONHUB_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium
fi
[ -x "$CHROMIUM" ] || die "Chromium is not at $CHROMIUM"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1 || die "Chromium at $CHROMIUM does not start"

log "PostgreSQL, Redis and Chromium are up"
