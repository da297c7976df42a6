"""The built-in text plugin: all-MiniLM-L6-v2 (384 d, cosine), active by default.

Items are plain texts (or any JSON object, flattened to one line); each is split into
parts of at most the model's maximum sequence length by a token-group splitter, and an
object's distance to a query is its closest part's (MIN aggregation), which suits
documents whose relevant passage is in one chunk. Items are carried inline in upsertion
requests; plugins that load from PostgreSQL or S3 subclass this one and override
`get_data_loader()` (see plugins/custom/README.md).

Fine-tuning (sized for a CPU): clicked results must win a softmax against the other
results of the batch (`SoftmaxRankingLoss`), one epoch, 128 tokens per text while
training, the two bottom layers frozen, two trials over the learning rate; trials are
ranked by nDCG@10 on held-out sessions.
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
from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager
from embedding_studio.embeddings.data.preprocessors.preprocessor import ItemsDatasetDictPreprocessor
from embedding_studio.embeddings.data.utils.fields_normalizer import DatasetFieldsNormalizer
from embedding_studio.embeddings.inference.triton.client import TritonClientFactory
from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
    TextToTextBERTTritonClientFactory,
)
from embedding_studio.embeddings.losses.softmax_ranking_loss import SoftmaxRankingLoss
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter
from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import DummySentenceSplitter
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
MAX_TOKENS = 256  # the model's max_seq_length; the splitter leaves room for special tokens
TRAINING_MAX_TOKENS = 128  # tokens per text while training (a CPU budget)


def _accumulators() -> list[MetricsAccumulator]:
    shifts = dict(calc_mean=True, calc_sliding=True, calc_min=True, calc_max=True)
    return [
        MetricsAccumulator("train_loss", **shifts),
        MetricsAccumulator("train_not_irrelevant_dist_shift", **shifts),
        MetricsAccumulator("train_irrelevant_dist_shift", **shifts),
        MetricsAccumulator("test_loss"),
        MetricsAccumulator("test_not_irrelevant_dist_shift"),
        MetricsAccumulator("test_irrelevant_dist_shift"),
    ]


class DefaultTextFineTuningMethod(FineTuningMethod):
    """Semantic text search with all-MiniLM-L6-v2, loaded offline when a local copy exists."""

    meta = PluginMeta(
        name="DefaultTextFineTuningMethod",
        version="0.1.0",
        description="all-MiniLM-L6-v2 text search with token-group splitting",
    )

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
        self.retriever = TextQueryRetriever()
        self.splitter = TrainTestSplitter()
        self.accumulators = _accumulators()
        self.manager = ExperimentsManager.from_wrapper(
            wrapper=context.mlflow_client,
            main_metric="test_ndcg_at_10",
            plugin_name=self.meta.name,
            accumulators=self.accumulators,
            experiment_name="text_embeddings_fine_tuning",
            run_name_pattern="fine_tuning_{timestamp}",
        )
        self.settings = FineTuningSettings(
            loss_func=SoftmaxRankingLoss(),
            step_size=35,
            test_each_n_sessions=-1,
            num_epochs=1,
            batch_size=16,
        )
        self.initial_params = INITIAL_PARAMS
        for one_tower in ("query_lr", "items_lr"):  # `learning_rate` sets the shared tower's
            self.initial_params.pop(one_tower)
        self.initial_params.update(
            {
                "num_fixed_layers": [2],
                "learning_rate": [2e-5, 5e-5],
                "query_weight_decay": [0.0],
                "items_weight_decay": [0.01],
                "margin": [0.0],
                "not_irrelevant_only": [False],
                "negative_downsampling": [0.4],
                "examples_order": [[11]],
                "max_seq_length": [TRAINING_MAX_TOKENS],
            }
        )
        self.initial_max_evals = 2

    def upload_initial_model(self) -> None:
        model = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: SentenceTransformer(path, device="cpu"),
        )
        self.manager.upload_initial_model(TextToTextSBERTModel(model))

    def get_query_retriever(self) -> Any:
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
        loader = self.get_data_loader()
        sessions_converter = ClickstreamSessionConverter(item_type=loader.item_meta_cls)
        ranking_dataset = prepare_data(
            clickstream,
            sessions_converter,
            self.splitter,
            self.retriever,
            loader,
            self.items_set_manager,
        )
        return FineTuningBuilder(
            data_loader=loader,
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
            initial_max_evals=self.initial_max_evals,
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
