#!/usr/bin/env bash
# Back up the portal: a pg_dump (custom format) of DATABASE_URL and one tar of MEDIA_ROOT and
# PRIVATE_MEDIA_ROOT, both named with the time, into BACKUP_DIR; backups older than
# BACKUP_KEEP_DAYS days are removed.
#
# Usage:  deploy/backup.sh [--env-file /etc/fengxian/env]
#   Settings come from the environment, or from the env file (only the keys below are read
#   from it; the file is not executed):
#   DATABASE_URL (postgres://…), MEDIA_ROOT, PRIVATE_MEDIA_ROOT,
#   BACKUP_DIR (default /var/backups/fengxian), BACKUP_KEEP_DAYS (default 14).
# Prints the paths it wrote. Restore: see restore_check.sh and the README (pg_restore, tar -x).
# Copy the backups off the server too: they hold personal data; keep them encrypted.
set -euo pipefail
umask 077

env_file=""
if [[ "${1:-}" == "--env-file" ]]; then
  env_file="${2:?--env-file needs a path}"
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--env-file FILE]" >&2
  exit 2
fi

# KEY's value from the env file (last assignment wins), else from the environment.
setting() {
  local key=$1 default=${2:-} value=""
  if [[ -n "$env_file" ]]; then
    value=$(sed -n "s/^${key}=//p" "$env_file" | tail -n 1)
    value=${value%\"}
    value=${value#\"}
  fi
  if [[ -z "$value" ]]; then
    value=${!key:-$default}
  fi
  printf '%s' "$value"
}

database_url=$(setting DATABASE_URL)
media_root=$(setting MEDIA_ROOT)
private_root=$(setting PRIVATE_MEDIA_ROOT)
backup_dir=$(setting BACKUP_DIR /var/backups/fengxian)
keep_days=$(setting BACKUP_KEEP_DAYS 14)

case "$database_url" in
  postgres://* | postgresql://* | pgsql://* | psql://*) ;;
  *)
    echo "backup.sh: DATABASE_URL must be a PostgreSQL URL (SQLite: copy db.sqlite3)" >&2
    exit 2
    ;;
esac
# libpq knows postgres:// and postgresql://; django-environ also accepts pgsql:// and psql://.
database_url="postgresql://${database_url#*://}"
if ! [[ "$keep_days" =~ ^[0-9]+$ ]]; then
  echo "backup.sh: BACKUP_KEEP_DAYS must be a whole number of days" >&2
  exit 2
fi

mkdir -p "$backup_dir"
stamp=$(date +%Y%m%d-%H%M%S)
dump="$backup_dir/fengxian-$stamp.dump"
files="$backup_dir/fengxian-files-$stamp.tar.gz"

# Written under a temporary name and renamed when complete, so that a failed run never
# leaves something that looks like a backup.
pg_dump --format=custom --compress=6 --no-owner --file="$dump.part" --dbname="$database_url"
pg_restore --list "$dump.part" >/dev/null  # the dump is readable
mv "$dump.part" "$dump"
echo "database: $dump"

folders=()
for folder in "$media_root" "$private_root"; do
  if [[ -n "$folder" && -d "$folder" ]]; then
    folders+=("$(cd "$folder" && pwd)")
  elif [[ -n "$folder" ]]; then
    echo "backup.sh: warning: $folder does not exist, not in the file backup" >&2
  fi
done
if [[ ${#folders[@]} -gt 0 ]]; then
  # Paths are stored without the leading /: restore with `tar -xzf FILE -C /`.
  tar --create --gzip --file="$files.part" --absolute-names --transform='s,^/,,' \
    "${folders[@]}"
  mv "$files.part" "$files"
  echo "files: $files"
fi

# Retention: whole days since the backup was written; never the ones just made.
find "$backup_dir" -maxdepth 1 -type f \
  \( -name 'fengxian-*.dump' -o -name 'fengxian-files-*.tar.gz' \) \
  -mtime "+$keep_days" ! -path "$dump" ! -path "$files" -print -delete |
  sed 's/^/removed: /'
