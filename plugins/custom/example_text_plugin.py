"""A complete example plugin: products kept in your own PostgreSQL database, searched by
meaning. Copy this file next to it under a new name, rename the class and `meta.name`,
and adapt the query generator to your tables (see README.md in this folder).

Enabled only when listed: INFERENCE_USED_PLUGINS='["ExampleTextPlugin"]'. It reads the
products from EXAMPLE_PRODUCTS_POSTGRES_URL (default: the platform's own POSTGRES_URL):

    CREATE TABLE brands (id integer PRIMARY KEY, name text NOT NULL);
    CREATE TABLE products (
        id integer PRIMARY KEY,
        title text NOT NULL,
        description text,
        brand_id integer REFERENCES brands (id),
        in_stock boolean NOT NULL DEFAULT true
    );

Items are upserted by row id, and searched as usual:

    POST /api/v1/embeddings/upsertion-tasks/run
    {"items": [{"object_id": "product-1", "item_info": {"object_id": "1"},
                "payload": {"brand": "Northwind"}}]}
"""

from __future__ import annotations

import os

from sentence_transformers import SentenceTransformer
from sqlalchemy import Engine, Select, Table, func, select
from transformers import AutoTokenizer

from embedding_studio.clickstream_storage.converters.converter import ClickstreamSessionConverter
from embedding_studio.clickstream_storage.query_retriever import QueryRetriever
from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever
from embedding_studio.context.app_context import context
from embedding_studio.core.config import settings
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_text_loader import PgsqlTextLoader
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator
from embedding_studio.embeddings.data.clickstream.train_test_splitter import TrainTestSplitter
from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager
from embedding_studio.embeddings.data.preprocessors.preprocessor import ItemsDatasetDictPreprocessor
from embedding_studio.embeddings.data.utils.fields_normalizer import DatasetFieldsNormalizer
from embedding_studio.embeddings.improvement.torch_based_adjuster import TorchBasedAdjuster
from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
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
from embedding_studio.vectordb.optimization import CreatePayloadIndexOptimization, Optimization
from embedding_studio.workers.fine_tuning.prepare_data import prepare_data

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # found offline: a bundled copy exists
MAX_TOKENS = 256  # the model's maximum sequence length


class ProductQueryGenerator(QueryGenerator):
    """The products in stock, each with its brand, and `search_text`: what gets embedded.

    Only `all()` is overridden: loading by id (`fetch_all`), single rows (`one`) and
    counting derive from it, so every query returns the same columns. Tables are
    reflected on first use, never at construction.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__("products", engine)
        self._brands: Table | None = None

    @property
    def brands(self) -> Table:
        if self._brands is None:
            self._brands = Table("brands", self.metadata, autoload_with=self.engine)
        return self._brands

    def all(self, offset: int, batch_size: int) -> Select:
        products, brands = self.table, self.brands
        search_text = func.concat_ws(
            "\n", products.c.title, brands.c.name, products.c.description
        ).label("search_text")
        return (
            select(products.c.id, products.c.title, brands.c.name.label("brand"), search_text)
            .select_from(products.outerjoin(brands, products.c.brand_id == brands.c.id))
            .where(products.c.in_stock.is_(True))
            .order_by(products.c.id)
            .limit(batch_size)
            .offset(offset)
        )


class ExampleTextPlugin(FineTuningMethod):
    """Semantic search over products stored in PostgreSQL, with all-MiniLM-L6-v2.

    - data: `PgsqlTextLoader` with `ProductQueryGenerator`; an item's `item_info` is
      `{"object_id": "<products.id>"}` (a product out of stock fails to load);
    - text: title, brand and description, split into parts of at most 256 tokens;
    - vectors: 384 dimensions, cosine, an object is as close as its closest part;
    - learning: fine-tuning from clickstream sessions, per-user vector adjustment;
    - database: an index on the `brand` payload field (applied once per collection).
    """

    meta = PluginMeta(
        name="ExampleTextPlugin",
        version="0.1.0",
        description="Products from PostgreSQL (joined with brands), all-MiniLM-L6-v2",
    )

    def __init__(self) -> None:
        self.model_name = MODEL_NAME
        self.inference_client_factory: TritonClientFactory | None = None
        connection_string = os.environ.get("EXAMPLE_PRODUCTS_POSTGRES_URL", settings.POSTGRES_URL)
        self.data_loader = PgsqlTextLoader(
            connection_string=connection_string,
            query_generator=ProductQueryGenerator,
            text_column="search_text",
        )
        self.retriever = TextQueryRetriever()
        self.sessions_converter = ClickstreamSessionConverter(item_type=PgsqlFileMeta)
        self.splitter = TrainTestSplitter()
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
        self.accumulators = [
            MetricsAccumulator(
                "train_loss", calc_mean=True, calc_sliding=True, calc_min=True, calc_max=True
            ),
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
        self.initial_params.update({"learning_rate": [2e-5, 5e-5], "max_seq_length": [128]})

    def upload_initial_model(self) -> None:
        model = context.model_downloader.download_model(
            model_name=self.model_name,
            download_fn=lambda path: SentenceTransformer(path, device="cpu"),
        )
        self.manager.upload_initial_model(TextToTextSBERTModel(model))

    def get_query_retriever(self) -> QueryRetriever:
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
        ranking_dataset = prepare_data(
            clickstream,
            self.sessions_converter,
            self.splitter,
            self.retriever,
            self.data_loader,
            self.items_set_manager,
        )
        return FineTuningBuilder(
            data_loader=self.data_loader,
            query_retriever=self.retriever,
            clickstream_sessions_converter=self.sessions_converter,
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

    def get_vectors_adjuster(self) -> VectorsAdjuster:
        return TorchBasedAdjuster(
            search_index_info=self.get_search_index_info(), adjustment_rate=0.1
        )

    def get_vectordb_optimizations(self) -> list[Optimization]:
        return [CreatePayloadIndexOptimization("brand")]
