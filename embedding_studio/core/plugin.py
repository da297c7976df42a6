"""The plugin interfaces users implement (`FineTuningMethod`, `CategoriesFineTuningMethod`).

A plugin is a class in a file under `plugins/` or `plugins/custom/` with a `meta`
attribute (`PluginMeta`) and every abstract method implemented. The plugin manager
registers it when its `meta.name` is listed in `INFERENCE_USED_PLUGINS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from embedding_studio.models.plugin import FineTuningBuilder, PluginMeta

if TYPE_CHECKING:
    from embedding_studio.clickstream_storage.query_retriever import QueryRetriever
    from embedding_studio.data_storage.loaders.data_loader import DataLoader
    from embedding_studio.embeddings.data.preprocessors.preprocessor import (
        ItemsDatasetDictPreprocessor,
    )
    from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
    from embedding_studio.embeddings.inference.triton.client import TritonClientFactory
    from embedding_studio.embeddings.selectors.selector import AbstractSelector
    from embedding_studio.experiments.experiments_tracker import ExperimentsManager
    from embedding_studio.models.clickstream.sessions import SessionWithEvents
    from embedding_studio.models.embeddings.models import SearchIndexInfo
    from embedding_studio.models.embeddings.ranking import ScoreBoost
    from embedding_studio.vectordb.optimization import Optimization


class FineTuningMethod(ABC):
    """Base class of every plugin: it decides the model, the data source, the
    preprocessing and how the model learns.

    Subclasses set `meta` and implement every abstract method. `__init__` takes no
    arguments; it may read `embedding_studio.context.app_context.context` (for example
    `context.mlflow_client`), which is ready when plugins are instantiated.
    """

    meta: PluginMeta

    @abstractmethod
    def upload_initial_model(self) -> None:
        """Log the model to start from to MLflow (through `get_manager()`)."""

    @abstractmethod
    def get_query_retriever(self) -> QueryRetriever:
        """The strategy that extracts the query from a clickstream session."""

    @abstractmethod
    def get_items_preprocessor(self) -> ItemsDatasetDictPreprocessor:
        """The preprocessor applied to items before embedding."""

    @abstractmethod
    def get_data_loader(self) -> DataLoader:
        """The loader that fetches items' content by their metadata."""

    @abstractmethod
    def get_manager(self) -> ExperimentsManager:
        """The MLflow-backed experiments manager of this plugin."""

    @abstractmethod
    def get_inference_client_factory(self) -> TritonClientFactory:
        """The factory of clients that embed queries and items with a given model id."""

    @abstractmethod
    def get_fine_tuning_builder(self, clickstream: list[SessionWithEvents]) -> FineTuningBuilder:
        """Prepare training data from the sessions and configure training."""

    @abstractmethod
    def get_search_index_info(self) -> SearchIndexInfo:
        """Vector dimensions, metric and aggregation of this plugin's collections."""

    @abstractmethod
    def get_vectors_adjuster(self) -> VectorsAdjuster:
        """The per-user vector adjustment used by the improvement worker."""

    @abstractmethod
    def get_vectordb_optimizations(self) -> list[Optimization]:
        """Extra database work (indexes, settings) applied once per collection."""

    # Optional hooks with defaults -------------------------------------------------------
    def get_split_items(self) -> bool:  # pragma: no cover - documented default
        """Whether items are split into parts before embedding (True by default)."""
        return True

    def get_search_boosts(self) -> list[ScoreBoost]:
        """Score boosts every similarity search applies unless the request gives its own
        `boosts` (an empty list turns them off). None by default. Example:
        ``[RecencyBoost(type="recency", field="published_at", half_life_days=30, weight=0.5)]``
        (models in `embedding_studio.models.embeddings.ranking`, formula there)."""
        return []

    def describe(self) -> dict[str, Any]:
        return self.meta.model_dump()


class CategoriesFineTuningMethod(FineTuningMethod):
    """A plugin whose collection holds categories; queries are parsed into categories by
    nearest-neighbour search followed by the plugin's selector."""

    @abstractmethod
    def get_category_selector(self) -> AbstractSelector:
        """The selector that keeps the confident categories among the nearest ones."""

    @abstractmethod
    def get_max_similar_categories(self) -> int:
        """How many nearest categories to fetch before selection."""

    @abstractmethod
    def get_max_margin(self) -> float:
        """The widest distance from the query a fetched category may have."""
