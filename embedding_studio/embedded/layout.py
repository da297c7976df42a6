"""Where `embedding-studio up` keeps things, and which servers it leaves to the user.

Data directory: postgres/, redis/ (append-only file), mlflow/ (mlflow.db + artifacts/),
logs/<process>.log, run/ (lock, pids, endpoints while running).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embedding_studio.core.config import Settings

SERVER_URL_SETTINGS = ("POSTGRES_URL", "REDIS_URL", "MLFLOW_TRACKING_URI", "DOCUMENT_STORE_URL")


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"


def explicit_server_urls(settings: Settings) -> set[str]:
    """The server URL settings given in the environment or .env (these servers are not started)."""
    return {name for name in SERVER_URL_SETTINGS if name in settings.model_fields_set}
