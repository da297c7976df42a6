"""Configuration of every Embedding Studio process.

Settings come from environment variables and an optional `.env` file; `.env.example`
lists each one with its default and meaning. Importing this module reads the
environment and opens nothing. An invalid value stops the process at start with a
message naming the variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _parse_name_list(value: object) -> object:
    """Accept a JSON list ('["A", "B"]') or a comma-separated string ('A,B')."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [part.strip() for part in text.split(",") if part.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    # --- servers -------------------------------------------------------------------
    POSTGRES_URL: str = "postgresql+psycopg://postgres@127.0.0.1:5432/embedding_studio"
    DOCUMENT_STORE_URL: str | None = None
    DOCUMENT_STORE_DB_NAME: str = "embedding_studio"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    MLFLOW_TRACKING_URI: str = "http://127.0.0.1:5001"

    # --- API -----------------------------------------------------------------------
    API_HOST: str = "127.0.0.1"
    API_PORT: int = Field(5000, gt=0, lt=65536)
    INTERNAL_API_ENABLED: bool = True
    ADMIN_API_KEY: str | None = None

    # --- plugins -------------------------------------------------------------------
    ES_PLUGINS_PATH: str = str(REPO_ROOT / "plugins")
    INFERENCE_USED_PLUGINS: Annotated[list[str], NoDecode] = ["DefaultTextFineTuningMethod"]
    DEFAULT_PLUGIN_NAME: str | None = None

    # --- inference -----------------------------------------------------------------
    INFERENCE_BACKEND: Literal["local", "triton"] = "local"
    # What embeds in process (INFERENCE_BACKEND=local): sentence-transformers text models
    # are exported to ONNX Runtime (on a CPU 2.3x faster per query and 1.6x per batch of
    # items, same vectors); other models, and any model whose export fails its check, and
    # int8 models use torch.
    INFERENCE_LOCAL_RUNTIME: Literal["onnx", "torch"] = "onnx"
    INFERENCE_HOST: str = "127.0.0.1"
    INFERENCE_GRPC_PORT: int = Field(8001, gt=0, lt=65536)
    INFERENCE_HTTP_PORT: int = Field(8000, gt=0, lt=65536)
    # Not a top-level `triton/` folder: with the repository root on sys.path it would
    # shadow the `triton` compiler package that transformers probes for.
    INFERENCE_MODEL_REPO: str = str(REPO_ROOT / "deploy" / "triton" / "model_repository")
    INFERENCE_TIMEOUT_S: float = Field(10.0, gt=0)
    MODEL_CACHE_DIR: str = str(Path.home() / ".cache" / "embedding_studio" / "models")
    # 16 rather than 32: on a 2-core CPU, MiniLM embeds 20-35% more items per second in
    # batches of 16 (less padding, activations that stay in cache); raise it on a GPU.
    INFERENCE_BATCH_SIZE: int = Field(16, gt=0)
    # Triton model repository layout and serving (written by the inference worker).
    INFERENCE_TRITON_BACKEND: Literal["libtorch", "python"] = "libtorch"
    INFERENCE_INSTANCE_KIND: Literal["cpu", "gpu"] = "cpu"
    INFERENCE_INSTANCE_COUNT: int = Field(1, gt=0)
    INFERENCE_MAX_BATCH_SIZE: int = Field(64, gt=0)
    INFERENCE_MAX_QUEUE_DELAY_US: int = Field(1000, ge=0)
    INFERENCE_DEPLOY_TIMEOUT_S: float = Field(300.0, gt=0)
    INFERENCE_QUANTIZE_INT8: bool = False

    # --- workers -------------------------------------------------------------------
    WORKER_MAX_RETRIES: int = Field(3, ge=0)
    WORKER_MIN_BACKOFF_MS: int = Field(1_000, ge=0)
    WORKER_MAX_BACKOFF_MS: int = Field(60_000, ge=0)
    WORKER_TIME_LIMIT_MS: int = Field(4 * 3600 * 1000, gt=0)
    WORKER_THREADS: int = Field(2, gt=0)
    WORKER_HEARTBEAT_TIMEOUT_MS: int = Field(60_000, gt=0)
    WORKER_MAINTENANCE_CHANCE: int = Field(1_000, ge=0, le=1_000_000)
    UPSERTION_BATCH_SIZE: int = Field(64, gt=0)
    UPSERTION_MAX_ITEMS: int = Field(100_000, gt=0)

    # --- reindex -------------------------------------------------------------------
    REINDEX_SUBTASK_SIZE: int = Field(2_000, gt=0)
    REINDEX_RETENTION_S: float = Field(24 * 3600, ge=0)

    # --- vector search -------------------------------------------------------------
    VECTORDB_HNSW_M: int = Field(16, gt=1)
    VECTORDB_HNSW_EF_CONSTRUCTION: int = Field(64, gt=1)
    VECTORDB_HNSW_EF_SEARCH: int = Field(100, gt=0)
    SEARCH_MAX_LIMIT: int = Field(1000, gt=0)

    # --- improvement ---------------------------------------------------------------
    ADJUSTMENT_RATE: float = Field(0.1, gt=0)
    NUM_ITERATIONS: int = Field(10, gt=0)
    SOFTMIN_TEMPERATURE: float = Field(1.0, gt=0)
    IMPROVEMENT_SECONDS_INTERVAL: float = Field(3600, gt=0)
    IMPROVEMENT_BATCH_SIZE: int = Field(100, gt=0)
    IMPROVEMENT_STALE_AFTER_S: float = Field(900, gt=0)

    # --- clickstream ---------------------------------------------------------------
    CLICKSTREAM_MAX_EVENTS_PER_REQUEST: int = Field(1000, gt=0)
    CLICKSTREAM_TIME_WINDOW_S: int = Field(7 * 24 * 3600, gt=0)
    CLICKSTREAM_MAX_CLOCK_SKEW_S: int = Field(300, ge=0)
    # False: a push is answered before its events reach the disk (PostgreSQL flushes them
    # within ~0.6 s; a crash of the database server loses at most that window, like
    # MongoDB's default write concern). On this 2-core VM the flush took 20-60 ms at
    # times and was the push's p99. True: answered after the flush.
    CLICKSTREAM_SYNCHRONOUS_COMMIT: bool = False

    # --- suggestions ---------------------------------------------------------------
    SUGGESTING_LEARN_FROM_CLICKSTREAM: bool = True
    SUGGESTING_LEARNED_HALF_CLICKS: float = Field(5.0, gt=0)

    # --- fine-tuning ---------------------------------------------------------------
    FINE_TUNING_MAX_NDCG_DROP: float = Field(0.0, ge=0, le=1)

    # --- embedded mode -------------------------------------------------------------
    EMBEDDED_DATA_DIR: str = str(Path.home() / ".embedding_studio")
    EMBEDDED_REDIS_PORT: int = Field(6390, gt=0, lt=65536)
    EMBEDDED_MLFLOW_PORT: int = Field(5001, gt=0, lt=65536)

    LOG_LEVEL: str = "INFO"

    @field_validator("INFERENCE_USED_PLUGINS", mode="before")
    @classmethod
    def _split_plugin_names(cls, value: object) -> object:
        return _parse_name_list(value)

    @property
    def uses_mongo(self) -> bool:
        return self.DOCUMENT_STORE_URL is not None and self.DOCUMENT_STORE_URL.startswith("mongodb")


settings = Settings()
