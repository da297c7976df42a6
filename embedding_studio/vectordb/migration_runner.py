"""Applies the numbered schema migrations in `migrations/` (see its README)."""

from __future__ import annotations

import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.schema import CreateTable

from embedding_studio.core.config import REPO_ROOT
from embedding_studio.vectordb.db_errors import translated_errors
from embedding_studio.vectordb.identifiers import checked_identifier

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = REPO_ROOT / "migrations"
ADVISORY_LOCK_KEY = 7_310_592_020_451_001  # any fixed bigint; the same in every process
HISTORY_TABLE = "schema_migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.py$")


def _history(name: str) -> Table:
    return Table(
        checked_identifier(name),
        MetaData(),
        Column("version", Integer, primary_key=True),
        Column("name", Text, nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class MigrationError(RuntimeError):
    """The migrations folder is missing or inconsistent."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def load(self) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"es_migration_{self.version}", self.path)
        if spec is None or spec.loader is None:
            raise MigrationError(f"cannot load migration {self.path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not callable(getattr(module, "upgrade", None)):
            raise MigrationError(f"migration {self.path} has no upgrade(connection) function")
        return module


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files of `directory`, ordered by number; duplicates are an error."""
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} not found")
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _FILE.match(path.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations numbered {version}: {found[version].path}, {path}"
            )
        found[version] = Migration(version, match.group(2), path)
    return [found[version] for version in sorted(found)]


def _applied(connection: Connection, history: Table) -> set[int]:
    return {int(version) for version in connection.execute(select(history.c.version)).scalars()}


def run_migrations(
    engine: Engine, directory: Path = MIGRATIONS_DIR, history_table: str = HISTORY_TABLE
) -> list[int]:
    """Apply every pending migration, in order, in one transaction; return their numbers.

    Safe to call from many processes at once: an advisory transaction lock serialises the
    callers and the later ones find nothing to do. `history_table` records what was applied
    (another folder of migrations needs its own table). Raises StorageUnavailable when
    PostgreSQL cannot be reached.
    """
    migrations = discover(directory)
    history = _history(history_table)
    with translated_errors("running schema migrations"), engine.begin() as connection:
        connection.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        connection.execute(CreateTable(history, if_not_exists=True))
        done = _applied(connection, history)
        applied: list[int] = []
        for migration in migrations:
            if migration.version in done:
                continue
            logger.info("applying migration %04d_%s", migration.version, migration.name)
            migration.load().upgrade(connection)
            connection.execute(
                insert(history).values(version=migration.version, name=migration.name)
            )
            applied.append(migration.version)
        return applied
