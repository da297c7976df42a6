"""The dependency container every process builds from settings.

`build_context(settings)` is the only place that chooses adapters (MongoDB or PostgreSQL
documents, local or Triton inference). Servers are contacted lazily: building the context
opens no connection. Plugins import `context`, a proxy to the process's context, which
is built on first use and then discovers plugins (plugins may read the context in their
`__init__`, so discovery runs after the context exists).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from embedding_studio.core.config import Settings, settings
from embedding_studio.core.plugin_manager import PluginManager
from embedding_studio.data_access.documents import DocumentStore
from embedding_studio.data_access.locks import LockRepository
from embedding_studio.data_access.postgres.engine import create_postgres_engine
from embedding_studio.data_access.tasks import TaskRepository
from embedding_studio.models.tasks import TaskKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from embedding_studio.data_access.clickstream import ClickstreamDao
    from embedding_studio.data_access.sessions_for_improvement import (
        SessionsForImprovementRepository,
    )
    from embedding_studio.embeddings.models.downloader import ModelDownloader
    from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper
    from embedding_studio.suggesting.suggester import Suggester
    from embedding_studio.vectordb.vectordb import VectorDb

logger = logging.getLogger(__name__)


def _document_store(config: Settings, engine: Engine) -> DocumentStore:
    if config.uses_mongo:
        from pymongo import MongoClient

        from embedding_studio.data_access.mongo.documents import MongoDocumentStore

        client: MongoClient[dict[str, Any]] = MongoClient(
            config.DOCUMENT_STORE_URL, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        return MongoDocumentStore(client[config.DOCUMENT_STORE_DB_NAME])
    from embedding_studio.data_access.postgres.documents import PostgresDocumentStore

    return PostgresDocumentStore(engine)


def _default_enqueue(kind: TaskKind, task_id: str) -> None:
    from embedding_studio.workers.broker import enqueue

    enqueue(kind, task_id)


@dataclass(eq=False)
class AppContext:
    """Stores and clients shared by the API, the workers and the plugins."""

    settings: Settings
    postgres: Engine
    documents: DocumentStore
    plugin_manager: PluginManager
    enqueue: Callable[[TaskKind, str], None] = field(default=_default_enqueue)

    @cached_property
    def tasks(self) -> TaskRepository:
        return TaskRepository(self.documents)

    @cached_property
    def locks(self) -> LockRepository:
        return LockRepository(self.documents)

    @cached_property
    def clickstream_dao(self) -> ClickstreamDao:
        from embedding_studio.data_access.clickstream import ClickstreamDao
        from embedding_studio.models.clickstream.time_window import TimeWindow

        window = TimeWindow(
            past_s=self.settings.CLICKSTREAM_TIME_WINDOW_S,
            future_s=self.settings.CLICKSTREAM_MAX_CLOCK_SKEW_S,
        )
        return ClickstreamDao(
            self.documents,
            time_window=window,
            durable_events=self.settings.CLICKSTREAM_SYNCHRONOUS_COMMIT,
        )

    @cached_property
    def sessions_for_improvement(self) -> SessionsForImprovementRepository:
        from embedding_studio.data_access.sessions_for_improvement import (
            SessionsForImprovementRepository,
        )

        return SessionsForImprovementRepository(self.documents)

    @cached_property
    def vectordb(self) -> VectorDb:
        from embedding_studio.vectordb.vectordb import VectorDb

        return VectorDb(self.postgres, prefix="es", kind="main")

    @cached_property
    def categories_vectordb(self) -> VectorDb:
        from embedding_studio.vectordb.vectordb import VectorDb

        return VectorDb(self.postgres, prefix="es_cat", kind="categories")

    @cached_property
    def model_downloader(self) -> ModelDownloader:
        from embedding_studio.embeddings.models.downloader import ModelDownloader

        return ModelDownloader(self.settings.MODEL_CACHE_DIR)

    @cached_property
    def mlflow_client(self) -> MLflowClientWrapper:
        from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper

        return MLflowClientWrapper(self.settings.MLFLOW_TRACKING_URI)

    @cached_property
    def suggestions(self) -> Suggester:
        from embedding_studio.suggesting.suggester import Suggester

        return Suggester(
            self.postgres, learned_half_clicks=self.settings.SUGGESTING_LEARNED_HALF_CLICKS
        )

    def close(self) -> None:
        if "suggestions" in vars(self):  # built: its index holds a connection
            self.suggestions.close()
        self.documents.close()
        self.postgres.dispose()


def build_context(config: Settings) -> AppContext:
    engine = create_postgres_engine(config.POSTGRES_URL)
    return AppContext(
        settings=config,
        postgres=engine,
        documents=_document_store(config, engine),
        plugin_manager=PluginManager(enabled=config.INFERENCE_USED_PLUGINS),
    )


_lock = threading.RLock()
_current: AppContext | None = None
_ready = False


def current_context() -> AppContext:
    """The process's context: built on first use, then plugins are discovered.

    The building thread may re-enter (a plugin's `__init__` reads `context`); other
    threads wait until discovery has finished."""
    global _current, _ready
    if _ready and _current is not None:
        return _current
    with _lock:
        if _current is None:
            ctx = build_context(settings)
            _current = ctx
            ctx.plugin_manager.discover_plugins(settings.ES_PLUGINS_PATH)
            _ready = True
        return _current


def set_context(ctx: AppContext | None) -> None:
    """Install a context built elsewhere (tests, the API lifespan)."""
    global _current, _ready
    with _lock:
        _current = ctx
        _ready = ctx is not None


class _ContextProxy:
    """`context.X` reads attribute X of the process's context (plugins use this)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(current_context(), name)


context: Any = _ContextProxy()
