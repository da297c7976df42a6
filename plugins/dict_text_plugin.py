"""The built-in plugin for JSON-object items (products, records, articles with fields).

Each item is a JSON object sent inline (`"data": {"title": ..., "description": ...}`).
It becomes one JSON line (`get_json_line_from_dict`), which `JSONSplitter` cuts into one
block per field (`"title: ..."`), grouped into parts within the model's token limit by
`TokenGroupTextSplitter`; an object's distance is its closest part's. Queries may be
strings or objects of the same shape.

Registered only when "HFDictTextFineTuningMethod" is in INFERENCE_USED_PLUGINS. To index
only some fields, subclass it and set `field_names`.
"""

from __future__ import annotations

from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer

from embedding_studio.clickstream_storage.converters.converter import ClickstreamSessionConverter
from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever
from embedding_studio.context.app_context import context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.embeddings.data.clickstream.train_test_splitter import TrainTestSplitter
from embedding_studio.embeddings.data.items.managers.dict import DictItemSetManager
from embedding_studio.embeddings.data.preprocessors.preprocessor import ItemsDatasetDictPreprocessor
from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (
    get_json_line_from_dict,
)
from embedding_studio.embeddings.data.utils.fields_normalizer import DatasetFieldsNormalizer
from embedding_studio.embeddings.inference.triton.client import TritonClientFactory
from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
    TextToTextBERTTritonClientFactory,
)
from embedding_studio.embeddings.losses.softmax_ranking_loss import SoftmaxRankingLoss
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter
from embedding_studio.embeddings.splitters.dict.json_splitter import JSONSplitter
from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
    TokenGroupTextSplitter,
)
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.experiments.finetuning_settings import FineTuningSettings
from embedding_studio.experiments.initial_params.text import INITIAL_PARAMS
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator
from embedding_studio.models.clickstream.sessions import SessionWithEvents
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.plugin import FineTuningBuilder, PluginMeta
from embedding_studio.workers.fine_tuning.prepare_data import prepare_data

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 256
TRAINING_MAX_TOKENS = 128  # tokens per text while training (a CPU budget)


class HFDictTextFineTuningMethod(FineTuningMethod):
    """Semantic search over JSON-object items with all-MiniLM-L6-v2 (384 d, cosine).

    :cvar field_names: the fields embedded, in order (None: every field of the item)
    """

    meta = PluginMeta(
        name="HFDictTextFineTuningMethod",
        version="0.1.0",
        description="all-MiniLM-L6-v2 search over JSON-object items, split by field",
    )

    field_names: list[str] | None = None

    def __init__(self) -> None:
        self.model_name = MODEL_NAME
        self.inference_client_factory: TritonClientFactory | None = None
        self.normalizer = DatasetFieldsNormalizer("item", "item_id")
        tokenizer = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: AutoTokenizer.from_pretrained(path),
        )
        self.items_set_manager = DictItemSetManager(
            self.normalizer,
            items_set_splitter=ItemsSetSplitter(
                TokenGroupTextSplitter(
                    tokenizer=tokenizer,
                    blocks_splitter=JSONSplitter(field_names=self.field_names),
                    max_tokens=MAX_TOKENS,
                )
            ),
            transform=get_json_line_from_dict,
        )
        self.data_loader: DataLoader = InlineDataLoader()
        self.retriever = TextQueryRetriever()
        self.splitter = TrainTestSplitter()
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
            main_metric="test_ndcg_at_10",
            plugin_name=self.meta.name,
            accumulators=self.accumulators,
        )
        self.settings = FineTuningSettings(
            loss_func=SoftmaxRankingLoss(), step_size=35, num_epochs=1, batch_size=16
        )
        self.initial_params = INITIAL_PARAMS  # a fresh copy: updating it is safe
        self.initial_params.update(
            {
                "num_fixed_layers": [2],
                "learning_rate": [2e-5, 5e-5],
                "margin": [0.0],
                "not_irrelevant_only": [False],
                "negative_downsampling": [0.4],
                "max_seq_length": [TRAINING_MAX_TOKENS],
            }
        )

    def upload_initial_model(self) -> None:
        model = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: SentenceTransformer(path, device="cpu"),
        )
        self.manager.upload_initial_model(TextToTextSBERTModel(model))

    def get_query_retriever(self) -> TextQueryRetriever:
        return self.retriever

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

    def get_fine_tuning_builder(self, clickstream: list[SessionWithEvents]) -> FineTuningBuilder:
        """Prepare the sessions' training data and configure training (as the seeds do)."""
        sessions_converter = ClickstreamSessionConverter(item_type=self.data_loader.item_meta_cls)
        ranking_dataset = prepare_data(
            clickstream,
            sessions_converter,
            self.splitter,
            self.retriever,
            self.data_loader,
            self.items_set_manager,
        )
        return FineTuningBuilder(
            data_loader=self.data_loader,
            query_retriever=self.retriever,
            clickstream_sessions_converter=sessions_converter,
            clickstream_sessions_splitter=self.splitter,
            dataset_fields_normalizer=self.normalizer,
            items_set_manager=self.items_set_manager,
            accumulators=self.accumulators,
            experiments_manager=self.manager,
            fine_tuning_settings=self.settings,
            initial_params=self.initial_params,
            ranking_data=ranking_dataset,
            initial_max_evals=2,
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
