"""Exporting embedding models for Triton: the TorchScript tower reproduces the eager
model on other batch sizes and lengths than it was traced with, and the generated
`config.pbtxt` parses as Triton's `ModelConfig` and matches the exported model (the
libtorch config is what the docker compose Triton loads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from tritonclient.grpc import model_config_pb2

from embedding_studio.embeddings.inference.triton.config_pbtxt import (
    ConfigError,
    TowerConfig,
    check_tower_config,
    parse_config,
    read_config,
    render_config,
)
from embedding_studio.embeddings.inference.triton.export import (
    CHECK_TEXTS,
    EQUIVALENCE_ATOL,
    EXPORT_INFO_FILE,
    PYTHON_MODEL_FILE,
    TORCHSCRIPT_FILE,
    ExportOptions,
    export_model,
    exported_models,
    remove_model,
    tokenize,
)
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel

ROOT = Path(__file__).resolve().parents[2]
MODEL_ID = "0123456789abcdef0123456789abcdef"
PLUGIN = "TestPlugin"
NAME = f"{PLUGIN}_{MODEL_ID}_query"


@pytest.fixture(scope="module")
def model(minilm: Any) -> TextToTextSBERTModel:
    return TextToTextSBERTModel(minilm).eval()


@pytest.fixture(scope="module")
def libtorch_repo(model: TextToTextSBERTModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repository = tmp_path_factory.mktemp("repo")
    export_model(model, PLUGIN, MODEL_ID, repository, ExportOptions())
    return repository


def test_exported_tower_matches_the_eager_model(
    model: TextToTextSBERTModel, libtorch_repo: Path
) -> None:
    exported = torch.jit.load(str(libtorch_repo / NAME / "1" / TORCHSCRIPT_FILE))
    tower = model.get_query_model()
    for texts in (CHECK_TEXTS, CHECK_TEXTS[:1], ["unpadded", "batch"]):
        inputs = tokenize(model, texts)
        with torch.no_grad():
            difference = (exported(*inputs) - tower(*inputs)).abs().max().item()
        assert difference <= EQUIVALENCE_ATOL, (len(texts), difference)
    with torch.no_grad():
        eager = model.forward_items(CHECK_TEXTS)
        got = exported(*tokenize(model, CHECK_TEXTS))
    assert torch.allclose(eager, got, atol=EQUIVALENCE_ATOL)


def test_shared_towers_are_exported_once(libtorch_repo: Path) -> None:
    folders = [p.name for p in libtorch_repo.iterdir() if not p.name.startswith(".")]
    assert folders == [NAME]
    assert {p.name for p in (libtorch_repo / NAME / "1").iterdir()} == {
        TORCHSCRIPT_FILE,
        EXPORT_INFO_FILE,
    }
    found = exported_models(libtorch_repo, MODEL_ID)
    assert [info.name for info in found] == [NAME]
    assert exported_models(libtorch_repo, "another") == []


def test_libtorch_config_parses_and_matches_the_exported_model(libtorch_repo: Path) -> None:
    config = read_config(libtorch_repo / NAME)
    check_tower_config(config, dimensions=384)
    assert config.name == NAME
    assert config.platform == "pytorch_libtorch" and config.backend == "pytorch"
    assert [g.kind for g in config.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_CPU]
    assert config.dynamic_batching.max_queue_delay_microseconds == 1000
    assert config.max_batch_size == 64
    # The libtorch backend binds inputs to forward()'s argument names.
    exported = torch.jit.load(str(libtorch_repo / NAME / "1" / TORCHSCRIPT_FILE))
    arguments = [a.name for a in exported.forward.schema.arguments][1:]
    assert arguments == [t.name for t in config.input]


def test_a_second_export_with_the_same_options_writes_nothing(
    model: TextToTextSBERTModel, libtorch_repo: Path
) -> None:
    again = export_model(model, PLUGIN, MODEL_ID, libtorch_repo, ExportOptions())
    assert again.written == [] and [m.name for m in again.models] == [NAME]


def test_python_backend_and_gpu_configs(
    model: TextToTextSBERTModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedding_studio.embeddings.inference.triton import export

    # The tower itself is covered above; here only the folder layout and config matter.
    def fake_export_tower(_model: Any, _tower: Any, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"pt")

    monkeypatch.setattr(export, "export_tower", fake_export_tower)
    options = ExportOptions(backend="python", instance_kind="gpu", max_queue_delay_us=250)
    result = export_model(model, PLUGIN, MODEL_ID, tmp_path, options)
    assert result.written == [NAME]
    config = read_config(tmp_path / NAME)
    check_tower_config(config, dimensions=384)
    assert config.backend == "python" and not config.platform
    assert [g.kind for g in config.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_GPU]
    assert config.dynamic_batching.max_queue_delay_microseconds == 250
    assert (tmp_path / NAME / "1" / PYTHON_MODEL_FILE).is_file()
    assert remove_model(tmp_path, result.models[0]) and not (tmp_path / NAME).exists()
    assert not remove_model(tmp_path, result.models[0])


def test_options_follow_the_settings() -> None:
    from embedding_studio.core.config import Settings

    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        INFERENCE_INSTANCE_KIND="gpu",
        INFERENCE_MAX_BATCH_SIZE=8,
        INFERENCE_BATCH_SIZE=32,
    )
    options = ExportOptions.from_settings(config)
    assert options.instance_kind == "gpu" and options.backend == "libtorch"
    assert options.max_batch_size == 32  # never below what the clients send


def test_invalid_or_mismatched_configs_are_reported() -> None:
    with pytest.raises(ConfigError, match="not a valid"):
        parse_config('name: "x"\nbatch_size_typo: 4\n')
    text = render_config(TowerConfig(name="x", dimensions=384))
    with pytest.raises(ConfigError, match="outputs are output TYPE_FP32 \\[384\\]"):
        check_tower_config(parse_config(text), dimensions=768)
    with pytest.raises(ConfigError, match="backend"):
        TowerConfig(name="x", dimensions=3, backend="onnx")  # type: ignore[arg-type]


def test_docker_compose_serves_the_libtorch_repository_the_worker_writes() -> None:
    """Compose's Triton reads the volume the inference worker exports into, in explicit
    model-control mode, and the worker keeps the default (libtorch) backend."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    worker, triton = services["inference_worker"], services["triton"]
    environment = worker.get("environment") or {}
    assert environment.get("INFERENCE_TRITON_BACKEND", "libtorch") == "libtorch"
    repository = environment.get("INFERENCE_MODEL_REPO", "/models")
    assert any(v.endswith(f":{repository}") for v in worker["volumes"])
    volume = next(v.split(":")[0] for v in worker["volumes"] if v.endswith(f":{repository}"))
    assert f"{volume}:{repository}" in triton["volumes"]
    assert f"--model-repository={repository}" in triton["command"]
    assert "--model-control-mode=explicit" in triton["command"]
