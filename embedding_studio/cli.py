"""The `embedding-studio` command.

    embedding-studio up [--data-dir DIR] [--ready-timeout SECONDS]

Exit codes: 0 after a requested stop, 1 when the stack could not start or keep running,
2 for invalid settings or arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

if TYPE_CHECKING:
    from embedding_studio.core.config import Settings

EXIT_INVALID_SETTINGS = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embedding-studio",
        description="Embedding Studio: a search service that improves itself from its traffic.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        help="run the whole platform on this machine (databases, MLflow, API, workers)",
        description="Start and supervise PostgreSQL+pgvector, Redis, MLflow, the API and every "
        "worker. Servers whose URL is set (POSTGRES_URL, REDIS_URL, MLFLOW_TRACKING_URI, "
        "DOCUMENT_STORE_URL) are used instead of started. Ctrl-C stops everything.",
    )
    up.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where databases, artifacts and logs live (default: EMBEDDED_DATA_DIR)",
    )
    up.add_argument(
        "--ready-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the API to report healthy (default: 300)",
    )
    return parser


def invalid_settings_message(exc: ValidationError) -> str:
    """One line per invalid variable: its name, what is wrong, and the value given."""
    lines = ["invalid configuration (environment variables or .env; see .env.example):"]
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "?"
        lines.append(f"  {name}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)


def load_settings() -> Settings:
    """The process settings; raises ValidationError naming each invalid variable."""
    from embedding_studio.core.config import settings

    return settings


QUIET_LOGGERS = ("pgserver", "httpx", "httpcore")


def configure_logging(level: str) -> None:
    """Rich output on a terminal, plain timestamped lines otherwise (files, CI)."""
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=True)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    # platformdirs warns about XDG_RUNTIME_DIR, which pgserver only uses for a lock file.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def print_endpoints(endpoints: dict[str, str]) -> None:
    table = Table(title="Embedding Studio is up (Ctrl-C stops it)", show_header=False)
    labels = {
        "api": "API",
        "docs": "API docs",
        "mlflow": "MLflow UI",
        "postgres": "PostgreSQL",
        "redis": "Redis",
        "document_store": "Documents",
        "data_dir": "Data",
        "logs": "Logs",
    }
    for key, label in labels.items():
        if key in endpoints:
            table.add_row(label, endpoints[key])
    Console().print(table)


def run_up(settings: Settings, args: argparse.Namespace) -> int:
    from embedding_studio.embedded.supervisor import Supervisor

    data_dir = args.data_dir if args.data_dir is not None else Path(settings.EMBEDDED_DATA_DIR)
    supervisor = Supervisor(settings, data_dir, ready_timeout_s=args.ready_timeout)
    return supervisor.run(on_ready=print_endpoints)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        print(invalid_settings_message(exc), file=sys.stderr)
        return EXIT_INVALID_SETTINGS
    if not isinstance(logging.getLevelName(settings.LOG_LEVEL.upper()), int):
        print(
            f"invalid configuration: LOG_LEVEL: unknown level {settings.LOG_LEVEL!r}",
            file=sys.stderr,
        )
        return EXIT_INVALID_SETTINGS
    configure_logging(settings.LOG_LEVEL)
    if args.command == "up":
        return run_up(settings, args)
    return EXIT_INVALID_SETTINGS  # unreachable: argparse requires a known command


if __name__ == "__main__":
    sys.exit(main())
