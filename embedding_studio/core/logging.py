"""Process-wide logging set-up, called once by each entry point (API, workers, CLI)."""

from __future__ import annotations

import logging

from embedding_studio.core.config import settings

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(level=(level or settings.LOG_LEVEL).upper(), format=FORMAT)
