"""ExperimentsManager against a real MLflow server: the initial model is uploaded once,
downloads give identical vectors and are cached, fine-tuning runs are ranked, and the
local inference path fetches models through the plugin's manager."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from embedding_studio.core.errors import InvalidRequest, NotFound, StorageUnavailable
from embedding_studio.embedded.services import free_port
from embedding_studio.embeddings.inference.loaded_models import loaded_models
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
    TextToTextBERTTritonClientFactory,
)
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator
from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper
from embedding_studio.experiments.model_artifacts import TAG_HAS_MODEL

TEXTS = ["protein folding", "the immune response to infection"]


def new_manager(mlflow_uri: str, cache: Path, **kwargs: Any) -> ExperimentsManager:
    return ExperimentsManager.from_wrapper(
        wrapper=MLflowClientWrapper(mlflow_uri),
        main_metric="test_not_irrelevant_dist_shift",
        plugin_name=kwargs.pop("plugin_name", f"Plugin{uuid.uuid4().hex[:8]}"),
        accumulators=kwargs.pop("accumulators", []),
        model_cache_dir=cache,
        **kwargs,
    )


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model_cache")


@pytest.fixture(scope="module")
def uploaded(mlflow_uri: str, minilm: Any, cache_dir: Path) -> tuple[ExperimentsManager, str]:
    """The one model upload of this module (~90 MB)."""
    manager = new_manager(mlflow_uri, cache_dir)
    assert manager.get_initial_model_run_id() is None
    return manager, manager.upload_initial_model(TextToTextSBERTModel(minilm))


def test_initial_model_upload_is_idempotent(
    uploaded: tuple[ExperimentsManager, str], mlflow_uri: str, minilm: Any
) -> None:
    manager, run_id = uploaded
    assert manager.get_initial_model_run_id() == run_id
    assert manager.has_model(run_id)
    again = new_manager(mlflow_uri, Path("/nonexistent"), plugin_name=manager.plugin_name)
    assert again.upload_initial_model(TextToTextSBERTModel(minilm)) == run_id
    experiment = manager.wrapper.get_experiment_by_name(manager.initial_experiment_name)
    assert experiment is not None
    runs = manager.wrapper.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in runs] == [run_id]
    assert runs[0].data.params["dimensions"] == "384"


def test_downloaded_model_gives_identical_vectors(
    uploaded: tuple[ExperimentsManager, str], minilm: Any, cache_dir: Path
) -> None:
    manager, run_id = uploaded
    model = manager.download_model(run_id)
    assert isinstance(model, TextToTextSBERTModel) and not model.training
    with torch.inference_mode():
        expected = TextToTextSBERTModel(minilm).forward_items(TEXTS)
        torch.testing.assert_close(model.forward_items(TEXTS), expected, atol=0, rtol=0)
    assert (cache_dir / run_id / "embedding_model.json").exists()
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".download-")]


def test_cached_model_loads_without_mlflow(
    uploaded: tuple[ExperimentsManager, str], cache_dir: Path
) -> None:
    manager, run_id = uploaded
    manager.download_model(run_id)
    offline = new_manager(f"http://127.0.0.1:{free_port()}", cache_dir)
    assert isinstance(offline.download_model(run_id), TextToTextSBERTModel)


def test_unknown_models(uploaded: tuple[ExperimentsManager, str]) -> None:
    manager, _ = uploaded
    assert not manager.has_model(uuid.uuid4().hex)
    assert not manager.has_model("not a run id")
    with pytest.raises(NotFound):
        manager.download_model(uuid.uuid4().hex)
    with pytest.raises(InvalidRequest):
        manager.download_model("../../etc")


def test_unreachable_mlflow_is_storage_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    manager = new_manager(f"http://127.0.0.1:{free_port()}", tmp_path)
    with pytest.raises(StorageUnavailable, match="MLflow is unavailable"):
        manager.get_initial_model_run_id()


def test_concurrent_first_uploads_agree_on_one_model(mlflow_uri: str, tmp_path: Path) -> None:
    """Two processes bootstrapping at once: both return the run that finished first."""
    model = _TinyModel()
    name = f"Race{uuid.uuid4().hex[:8]}"
    managers = [new_manager(mlflow_uri, tmp_path, plugin_name=name) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = list(pool.map(lambda m: m.upload_initial_model(model), managers))
    assert ids[0] == ids[1] == managers[0].get_initial_model_run_id()
    assert managers[0].download_model(ids[0]).dimensions == 3


def test_fine_tuning_runs_are_ranked_by_the_main_metric(mlflow_uri: str, tmp_path: Path) -> None:
    accumulator = MetricsAccumulator("test_not_irrelevant_dist_shift", calc_mean=True)
    manager = new_manager(
        mlflow_uri, tmp_path, accumulators=[accumulator], run_name_pattern="trial_{iteration}"
    )
    assert manager.get_best_run_id() is None
    run_ids = []
    for iteration, values in enumerate([[0.1, 0.2], [0.5, 0.4], [0.9]]):
        run_id = manager.start_run({"learning_rate": 1e-5 * (iteration + 1)}, str(iteration))
        for step, value in enumerate(values):
            accumulator.accumulate(value)
            logged = manager.log_accumulators(run_id, step)
        assert logged["test_not_irrelevant_dist_shift"] == values[-1]
        if iteration < 2:  # the third run holds no model: it cannot win
            manager.wrapper.set_tags(run_id, {TAG_HAS_MODEL: "true"})
        manager.finish_run(run_id)
        run_ids.append(run_id)
    assert manager.get_best_run_id() == run_ids[1]
    manager.is_loss = True
    assert manager.get_best_run_id() == run_ids[0]
    run = manager.wrapper.get_run(run_ids[1])
    assert run is not None and run.info.run_name == "trial_1"
    assert run.data.metrics["mean_test_not_irrelevant_dist_shift"] == pytest.approx(0.45)


def test_unknown_run_name_placeholder_fails_at_construction(mlflow_uri: str) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        new_manager(mlflow_uri, Path("/tmp"), run_name_pattern="run_{epoch}")


def test_factory_local_client_downloads_through_the_plugin_manager(
    uploaded: tuple[ExperimentsManager, str], monkeypatch: pytest.MonkeyPatch, minilm: Any
) -> None:
    from embedding_studio.context import app_context
    from embedding_studio.core.config import settings

    manager, run_id = uploaded
    plugin = SimpleNamespace(get_manager=lambda: manager)
    plugins = {manager.plugin_name: plugin}
    monkeypatch.setattr(
        app_context,
        "context",
        SimpleNamespace(plugin_manager=SimpleNamespace(get_plugin=plugins.get)),
    )
    monkeypatch.setattr(settings, "INFERENCE_BACKEND", "local")
    loaded_models.discard(run_id)

    factory = TextToTextBERTTritonClientFactory("unused:8001", plugin_name=manager.plugin_name)
    client = factory.get_client(run_id)
    assert isinstance(client, LocalInferenceClient)
    assert factory.get_client(run_id).model is client.model  # loaded once per process
    expected = minilm.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(client.forward_items(TEXTS), expected, atol=1e-5)

    other = TextToTextBERTTritonClientFactory("unused:8001", plugin_name="NotRegistered")
    with pytest.raises(NotFound, match="NotRegistered"):
        other.get_client(uuid.uuid4().hex)
    loaded_models.discard(run_id)


class _TinyModel(EmbeddingsModelInterface):
    """A 3-d model small enough to upload many times (a linear map of text lengths)."""

    def __init__(self) -> None:
        super().__init__(same_query_and_items=True)
        self.linear = torch.nn.Linear(1, 3)

    def get_query_model(self) -> torch.nn.Module:
        return self.linear

    def get_items_model(self) -> torch.nn.Module:
        return self.linear

    def _embed(self, texts: list[str]) -> torch.Tensor:
        return self.linear(torch.tensor([[float(len(t))] for t in texts]))

    def forward_query(self, queries: list[str]) -> torch.Tensor:
        return self._embed(queries)

    def forward_items(self, items: list[str]) -> torch.Tensor:
        return self._embed(items)

    @property
    def dimensions(self) -> int:
        return 3

    def save(self, directory: Path) -> None:
        from safetensors.torch import save_file

        save_file(self.linear.state_dict(), os.path.join(directory, "linear.safetensors"))

    @classmethod
    def load(cls, directory: Path) -> _TinyModel:
        from safetensors.torch import load_file

        model = cls()
        model.linear.load_state_dict(load_file(os.path.join(directory, "linear.safetensors")))
        return model
