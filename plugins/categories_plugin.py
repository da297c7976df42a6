"""The built-in categories plugin: query parsing into product (or any) categories.

Categories are items of their own collection (in `context.categories_vectordb`), sent
through `POST /api/v1/categories/upsertion-tasks/run` with their text inline (a name,
best followed by a few words that describe it) and a payload naming their parent:

    {"object_id": "running_shoes", "data": "Running shoes: sneakers, trail runners",
     "payload": {"name": "Running shoes", "parent_id": "shoes"}}

`POST /api/v1/parse-query/categories` embeds the query with all-MiniLM-L6-v2, fetches
the nearest categories, keeps those whose cosine similarity to the query is above
1 - margin (0.5), with sigmoid(scale * (similarity - 0.5)) as confidence
(`ProbsDistBasedSelector`), and adds their ancestors (`HierarchicalCategorySelector`;
parents come from the `parent_id` payload field, an id or a list of ids).

Registered only when "HFCategoriesTextFineTuningMethod" is in INFERENCE_USED_PLUGINS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer

from embedding_studio.context.app_context import context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import CategoriesFineTuningMethod
from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager
from embedding_studio.embeddings.data.preprocessors.preprocessor import ItemsDatasetDictPreprocessor
from embedding_studio.embeddings.data.utils.fields_normalizer import DatasetFieldsNormalizer
from embedding_studio.embeddings.inference.triton.client import TritonClientFactory
from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
    TextToTextBERTTritonClientFactory,
)
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.embeddings.selectors.category_graph import (
    CategoryGraph,
    parent_ids_from_payload,
)
from embedding_studio.embeddings.selectors.hierarchical_selector import (
    HierarchicalCategorySelector,
)
from embedding_studio.embeddings.selectors.prob_dist_based_selector import ProbsDistBasedSelector
from embedding_studio.embeddings.selectors.selector import AbstractSelector
from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter
from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import DummySentenceSplitter
from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
    TokenGroupTextSplitter,
)
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.plugin import FineTuningBuilder, PluginMeta

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 256


class HFCategoriesTextFineTuningMethod(CategoriesFineTuningMethod):
    """Categories prediction with all-MiniLM-L6-v2 (384 d, cosine, closest part).

    Tune by subclassing: `parent_field` (payload field of the parent ids), `margin`
    (a category is a match when its cosine similarity to the query exceeds 1 - margin),
    `scale` (steepness of the probability), `prob_threshold`, `max_similar_categories`
    and `max_margin` (the widest cosine distance fetched).
    """

    meta = PluginMeta(
        name="HFCategoriesTextFineTuningMethod",
        version="0.1.0",
        description="all-MiniLM-L6-v2 categories prediction with a category hierarchy",
    )

    parent_field = "parent_id"
    margin = 0.5
    scale = 10.0
    prob_threshold = 0.5
    max_similar_categories = 36
    max_margin = 0.9

    def __init__(self) -> None:
        self.model_name = MODEL_NAME
        self.inference_client_factory: TritonClientFactory | None = None
        self.normalizer = DatasetFieldsNormalizer("item", "item_id")
        tokenizer = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: AutoTokenizer.from_pretrained(path),
        )
        self.items_set_manager = TextItemSetManager(
            self.normalizer,
            items_set_splitter=ItemsSetSplitter(
                TokenGroupTextSplitter(
                    tokenizer=tokenizer,
                    blocks_splitter=DummySentenceSplitter(),
                    max_tokens=MAX_TOKENS,
                )
            ),
            do_augment_test=False,
        )
        self.data_loader: DataLoader = InlineDataLoader()
        shifts = dict(calc_mean=True, calc_sliding=True, calc_min=True, calc_max=True)
        self.accumulators = [
            MetricsAccumulator("train_loss", **shifts),
            MetricsAccumulator("train_not_irrelevant_dist_shift", **shifts),
            MetricsAccumulator("train_irrelevant_dist_shift", **shifts),
            MetricsAccumulator("test_loss"),
            MetricsAccumulator("test_not_irrelevant_dist_shift"),
            MetricsAccumulator("test_irrelevant_dist_shift"),
        ]
        self.manager = ExperimentsManager.from_wrapper(
            wrapper=context.mlflow_client,
            main_metric="test_not_irrelevant_dist_shift",
            plugin_name=self.meta.name,
            accumulators=self.accumulators,
        )

    # --- categories ----------------------------------------------------------------
    def get_category_selector(self) -> AbstractSelector:
        base = ProbsDistBasedSelector(
            search_index_info=self.get_search_index_info(),
            is_similarity=True,
            margin=self.margin,
            scale=self.scale,
            scale_to_one=False,
            prob_threshold=self.prob_threshold,
        )
        return HierarchicalCategorySelector(base, CategoryGraph(parents_loader=self._load_parents))

    def get_max_similar_categories(self) -> int:
        return self.max_similar_categories

    def get_max_margin(self) -> float:
        return self.max_margin

    def _load_parents(self, category_ids: list[str]) -> Mapping[str, list[str]]:
        """Parents of these categories, read from their payloads in this plugin's
        categories collection."""
        from embedding_studio.services.categories import categories_collection

        collection = categories_collection(context.categories_vectordb, self.meta.name)
        return {
            found.object_id: parent_ids_from_payload(found.payload, self.parent_field)
            for found in collection.find_by_ids(category_ids, with_vectors=False)
        }

    # --- the model and its data ----------------------------------------------------
    def upload_initial_model(self) -> None:
        model = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: SentenceTransformer(path, device="cpu"),
        )
        self.manager.upload_initial_model(TextToTextSBERTModel(model))

    def get_query_retriever(self) -> Any:
        from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever

        return TextQueryRetriever()

    def get_items_preprocessor(self) -> ItemsDatasetDictPreprocessor:
        return self.items_set_manager.preprocessor

    def get_data_loader(self) -> DataLoader:
        return self.data_loader

    def get_manager(self) -> ExperimentsManager:
        return self.manager

    def get_inference_client_factory(self) -> TritonClientFactory:
        if self.inference_client_factory is None:
            self.inference_client_factory = TextToTextBERTTritonClientFactory(
                f"{settings.INFERENCE_HOST}:{settings.INFERENCE_GRPC_PORT}",
                plugin_name=self.meta.name,
                preprocessor=self.items_set_manager.preprocessor,
                model_name=self.model_name,
            )
        return self.inference_client_factory

    def get_fine_tuning_builder(self, clickstream: list[Any]) -> FineTuningBuilder:
        raise NotImplementedError(
            "categories are predicted with the initial model; fine-tuning a categories "
            "model from clickstream is not supported yet"
        )

    def get_search_index_info(self) -> SearchIndexInfo:
        return SearchIndexInfo(
            dimensions=384,
            metric_type=MetricType.COSINE,
            metric_aggregation_type=MetricAggregationType.MIN,
        )

    def get_vectors_adjuster(self) -> Any:
        from embedding_studio.embeddings.improvement.torch_based_adjuster import TorchBasedAdjuster

        return TorchBasedAdjuster(
            search_index_info=self.get_search_index_info(),
            adjustment_rate=settings.ADJUSTMENT_RATE,
            num_iterations=settings.NUM_ITERATIONS,
            softmin_temperature=settings.SOFTMIN_TEMPERATURE,
        )

    def get_vectordb_optimizations(self) -> list[Any]:
        return []
