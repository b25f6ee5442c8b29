#!/usr/bin/env bash
# Prove a backup restores: pg_restore DUMP into a scratch database on the same server as
# DATABASE_URL, count the rows of every table in both, print the counts side by side, drop
# the scratch database, and exit 1 if any table differs (0 when all match).
#
# Usage:  deploy/restore_check.sh DUMP [--env-file /etc/fengxian/env]
#   DATABASE_URL is the source database the dump was taken from; RESTORE_CHECK_DATABASE names
#   the scratch database (default fengxian_restore_check); it must not exist yet.
# Counts are compared with the source as it is now: run this straight after backup.sh, at a
# quiet hour, or expect the tables written since the dump to differ.
set -euo pipefail

dump="${1:?usage: $0 DUMP [--env-file FILE]}"
env_file=""
if [[ "${2:-}" == "--env-file" ]]; then
  env_file="${3:?--env-file needs a path}"
fi
[[ -r "$dump" ]] || { echo "restore_check.sh: cannot read $dump" >&2; exit 2; }

setting() {
  local key=$1 default=${2:-} value=""
  if [[ -n "$env_file" ]]; then
    value=$(sed -n "s/^${key}=//p" "$env_file" | tail -n 1)
    value=${value%\"}
    value=${value#\"}
  fi
  printf '%s' "${value:-${!key:-$default}}"
}

source_url=$(setting DATABASE_URL)
scratch=$(setting RESTORE_CHECK_DATABASE fengxian_restore_check)
case "$source_url" in
  postgres://* | postgresql://* | pgsql://* | psql://*) ;;
  *) echo "restore_check.sh: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2 ;;
esac
source_url="postgresql://${source_url#*://}"
if ! [[ "$scratch" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  echo "restore_check.sh: RESTORE_CHECK_DATABASE must be a plain lower-case name" >&2
  exit 2
fi

# The same server and options, another database: .../<name>?<options>
base=${source_url%%\?*}
options=${source_url#"$base"}
server=${base%/*}
source_name=${base##*/}
if [[ "$scratch" == "$source_name" ]]; then
  echo "restore_check.sh: the scratch database cannot be the source database" >&2
  exit 2
fi
maintenance_url="$server/postgres$options"
scratch_url="$server/$scratch$options"

psql_at() { psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"; }

exists=$(psql_at "$maintenance_url" -c "SELECT 1 FROM pg_database WHERE datname = '$scratch'")
if [[ -n "$exists" ]]; then
  echo "restore_check.sh: database $scratch already exists; drop it or choose another name" >&2
  exit 2
fi

workdir=$(mktemp -d)
created=0
cleanup() {
  if [[ $created == 1 ]]; then
    psql_at "$maintenance_url" -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null
    echo "dropped scratch database $scratch"
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

psql_at "$maintenance_url" -c "CREATE DATABASE \"$scratch\"" >/dev/null
created=1
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch_url" "$dump"
echo "restored $dump into $scratch"

# Every table of the public schema with its exact row count, one "table<TAB>count" per line.
count_rows() {
  psql_at --field-separator=$'\t' "$1" -c "
    SELECT table_name,
           (xpath('/row/n/text()',
                  query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
                                      table_schema, table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
    ORDER BY table_name"
}
count_rows "$source_url" | LC_ALL=C sort >"$workdir/source"
count_rows "$scratch_url" | LC_ALL=C sort >"$workdir/restored"

LC_ALL=C join -t $'\t' -a 1 -a 2 -e missing -o 0,1.2,2.2 "$workdir/source" "$workdir/restored" |
  awk -F '\t' '
    BEGIN { printf "%-44s %12s %12s\n", "table", "source", "restored" }
    {
      mark = ($2 == $3) ? "" : "  DIFFERS"
      if (mark != "") differ++
      printf "%-44s %12s %12s%s\n", $1, $2, $3, mark
      tables++
    }
    END {
      if (differ) { printf "%d of %d tables differ\n", differ, tables; exit 1 }
      printf "all %d tables have the same row counts\n", tables
    }'
