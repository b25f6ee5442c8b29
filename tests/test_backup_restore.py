"""deploy/backup.sh and deploy/restore_check.sh against a real, small PostgreSQL database.

A scratch database is migrated and given the demo district in a subprocess, backed up, and
restored into another scratch database whose row counts are compared with the source's.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DB = settings.DATABASES["default"]

pytestmark = pytest.mark.skipif(
    "postgresql" not in DB["ENGINE"], reason="backups are pg_dump/pg_restore: needs PostgreSQL"
)


def _url(name: str) -> str:
    user = quote(DB["USER"] or "postgres", safe="")
    password = f":{quote(DB['PASSWORD'], safe='')}" if DB["PASSWORD"] else ""
    return f"postgres://{user}{password}@{DB['HOST'] or '127.0.0.1'}:{DB['PORT'] or 5432}/{name}"


def _admin(statement: sql.Composable) -> list[tuple]:
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _exists(name: str) -> bool:
    return bool(_admin(sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(name)))


def _drop(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _environment(**extra: str) -> dict[str, str]:
    drop = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    environment.update(extra)
    return environment


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=_environment(**env), capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def source_url():
    """A migrated scratch database holding the demo district (dropped afterwards)."""
    name = f"fengxian_h9_backup_{secrets.token_hex(3)}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url(name)
    try:
        for command in (["migrate", "--noinput"], ["load_demo"]):
            result = _run([sys.executable, "manage.py", *command], DATABASE_URL=url)
            assert result.returncode == 0, result.stderr[-2000:]
        yield url
    finally:
        _drop(name)


@pytest.fixture
def folders(tmp_path):
    media, private = tmp_path / "media", tmp_path / "private"
    (media / "stations").mkdir(parents=True)
    (media / "stations" / "photo.jpg").write_bytes(b"\xff\xd8 a station photo")
    (private / "imports").mkdir(parents=True)
    (private / "imports" / "survey.xlsx").write_bytes(b"PK a survey sheet")
    return media, private


def _backup(source_url: str, media: Path, private: Path, backups: Path, **extra: str):
    return _run(
        [str(DEPLOY / "backup.sh")],
        DATABASE_URL=source_url,
        MEDIA_ROOT=str(media),
        PRIVATE_MEDIA_ROOT=str(private),
        BACKUP_DIR=str(backups),
        **extra,
    )


def _restore_check(dump: Path, source_url: str, scratch: str) -> subprocess.CompletedProcess:
    return _run(
        [str(DEPLOY / "restore_check.sh"), str(dump)],
        DATABASE_URL=source_url,
        RESTORE_CHECK_DATABASE=scratch,
    )


def test_backup_restores_with_equal_counts_and_a_changed_table_is_caught(
    source_url, folders, tmp_path
):
    media, private = folders
    backups = tmp_path / "backups"
    result = _backup(source_url, media, private, backups)
    assert result.returncode == 0, result.stderr
    [dump] = backups.glob("fengxian-*.dump")
    [files] = backups.glob("fengxian-files-*.tar.gz")
    assert f"database: {dump}" in result.stdout
    with tarfile.open(files) as archive:
        names = archive.getnames()
    assert str(media / "stations" / "photo.jpg").lstrip("/") in names
    assert str(private / "imports" / "survey.xlsx").lstrip("/") in names

    scratch = f"fengxian_h9_restore_{secrets.token_hex(3)}"
    result = _restore_check(dump, source_url, scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = {
        line.split()[0]: line.split()[1:3]
        for line in result.stdout.splitlines()
        if line.startswith(("couriers_", "stations_", "activities_"))
    }
    couriers, restored = counts["couriers_courier"]
    assert int(couriers) >= 1800 and couriers == restored
    assert "all " in result.stdout and "same row counts" in result.stdout
    assert not _exists(scratch)

    # The source moves on after the dump: one migration record fewer.
    with psycopg.connect(source_url) as conn:
        conn.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
        )
    result = _restore_check(dump, source_url, scratch)
    assert result.returncode == 1, result.stdout + result.stderr
    [differs] = [line for line in result.stdout.splitlines() if "DIFFERS" in line]
    table, before, after = differs.split()[:3]
    assert table == "django_migrations" and int(after) == int(before) + 1
    assert "1 of " in result.stdout
    assert not _exists(scratch)


def test_backup_removes_backups_older_than_the_retention(source_url, folders, tmp_path):
    media, private = folders
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "fengxian-20200101-000000.dump"
    recent = backups / "fengxian-files-20200102-000000.tar.gz"
    unrelated = backups / "notes.txt"
    for path, days in ((old, 20), (recent, 3), (unrelated, 400)):
        path.write_bytes(b"x")
        moment = time.time() - days * 86400
        os.utime(path, (moment, moment))
    result = _backup(source_url, media, private, backups, BACKUP_KEEP_DAYS="14")
    assert result.returncode == 0, result.stderr
    assert f"removed: {old}" in result.stdout
    assert not old.exists()
    assert recent.exists() and unrelated.exists()
    assert len(list(backups.glob("fengxian-*.dump"))) == 1  # the new one


def test_restore_check_refuses_to_use_an_existing_database(source_url, tmp_path):
    dump = tmp_path / "empty.dump"
    dump.write_bytes(b"")
    source_name = source_url.rsplit("/", 1)[1]
    result = _restore_check(dump, source_url, source_name)
    assert result.returncode == 2
    assert "cannot be the source" in result.stderr
    assert _exists(source_name)  # untouched
