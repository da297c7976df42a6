"""Export an embedding model into a Triton model repository.

`export_model(model, plugin_name, embedding_model_id, repository, options)` writes, for
each tower the model has (one when queries and items share it):

    <repository>/<plugin>_<model id>_<query|items>/
        config.pbtxt          generated (config_pbtxt.py): libtorch or python backend
        1/model.pt            TorchScript, traced; any batch size and sequence length
        1/model.py            only for the python backend: runs model.pt
        1/export.json         what was exported, so a second export of the same model
                              with the same options is skipped (idempotent)

A tower is traced from `get_query_model()` / `get_items_model()` (forward(input_ids,
attention_mask) -> [N, D]) and checked against the eager tower on a batch of another
size and length than the one traced; a difference above `EQUIVALENCE_ATOL` stops the
export. Each model folder is written into a staging folder, then renamed into place, so
Triton never sees a half-written model.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from embedding_studio.embeddings.inference.quantization import quantize_int8
from embedding_studio.embeddings.inference.triton import python_backend_model
from embedding_studio.embeddings.inference.triton.config_pbtxt import (
    CONFIG_FILE,
    InstanceKind,
    TowerConfig,
    TritonBackend,
    render_config,
)
from embedding_studio.embeddings.inference.triton.model_info import (
    DeployedModelInfo,
    deployed_model_infos,
)
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

logger = logging.getLogger(__name__)

EQUIVALENCE_ATOL = 1e-4
TORCHSCRIPT_FILE = python_backend_model.TORCHSCRIPT_FILE
PYTHON_MODEL_FILE = "model.py"
EXPORT_INFO_FILE = "export.json"
STAGING_DIR = ".staging"

TRACE_TEXTS = ["a short query", "a somewhat longer text, so that the first one is padded"]
CHECK_TEXTS = [
    "one",
    "a third text of middling length about proteins and cells",
    "short text",
    "and a long one: " + "the immune response of mammalian cells to viral infection " * 6,
    "x y z",
]


class ExportError(RuntimeError):
    """The model cannot be exported as a Triton token-input tower, or its export does
    not reproduce the eager model."""


@dataclass(frozen=True)
class ExportOptions:
    """How towers are exported and served (see `INFERENCE_*` settings).

    :param backend: "libtorch" (Triton images) or "python" (model.py runs model.pt)
    :param instance_kind: "cpu" or "gpu"
    :param instance_count: instances of each model in Triton
    :param max_batch_size: largest batch Triton accepts
    :param max_queue_delay_us: dynamic batching delay, in microseconds
    :param quantize_int8: export dynamically int8-quantised towers (CPU only)
    """

    backend: TritonBackend = "libtorch"
    instance_kind: InstanceKind = "cpu"
    instance_count: int = 1
    max_batch_size: int = 64
    max_queue_delay_us: int = 1000
    quantize_int8: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> ExportOptions:
        return cls(
            backend=settings.INFERENCE_TRITON_BACKEND,
            instance_kind=settings.INFERENCE_INSTANCE_KIND,
            instance_count=settings.INFERENCE_INSTANCE_COUNT,
            # The clients send INFERENCE_BATCH_SIZE items per call: Triton must take them.
            max_batch_size=max(settings.INFERENCE_MAX_BATCH_SIZE, settings.INFERENCE_BATCH_SIZE),
            max_queue_delay_us=settings.INFERENCE_MAX_QUEUE_DELAY_US,
            quantize_int8=settings.INFERENCE_QUANTIZE_INT8,
        )


def tokenize(model: EmbeddingsModelInterface, texts: list[str]) -> tuple[torch.Tensor, ...]:
    """(input_ids, attention_mask) int64 [N, L] for `texts`, as the model tokenizes."""
    tokenizer = model.tokenizer
    if tokenizer is None:
        raise ExportError(
            f"{type(model).__name__} has no tokenizer: only token-input text models can be "
            "exported to Triton"
        )
    encoded = tokenizer(
        texts, padding=True, truncation=True, max_length=model.max_length or 512,
        return_tensors="pt",
    )  # fmt: skip
    return encoded["input_ids"].long(), encoded["attention_mask"].long()


def trace_tower(
    tower: torch.nn.Module, example: tuple[torch.Tensor, ...]
) -> torch.jit.ScriptModule:
    """TorchScript of `tower`, traced on `example` (which should contain padding)."""
    tower = tower.eval().to("cpu")
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # Tracer warnings flag shape-dependent Python branches; `export_tower` checks the
        # traced graph on other shapes instead of trusting or printing them.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(tower, example, check_trace=False)
    return traced


def max_difference(
    eager: torch.nn.Module,
    exported: Callable[..., torch.Tensor],
    inputs: tuple[torch.Tensor, ...],
) -> float:
    """Largest absolute difference between the two modules' outputs on `inputs`."""
    with torch.no_grad():
        expected = eager(*inputs)
        got = exported(*inputs)
    if expected.shape != got.shape:
        raise ExportError(
            f"exported output shape {tuple(got.shape)}, eager {tuple(expected.shape)}"
        )
    return float((expected.float() - got.float()).abs().max())


def export_tower(
    model: EmbeddingsModelInterface, tower: torch.nn.Module, path: Path
) -> torch.jit.ScriptModule:
    """Trace `tower` of `model`, check it against the eager tower, save it to `path`."""
    traced = trace_tower(tower, tokenize(model, TRACE_TEXTS))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(traced, str(path))
    reloaded = torch.jit.load(str(path), map_location="cpu")
    difference = max_difference(tower, reloaded, tokenize(model, CHECK_TEXTS))
    if difference > EQUIVALENCE_ATOL:
        raise ExportError(
            f"the exported tower differs from the eager model by {difference:.2e} "
            f"(> {EQUIVALENCE_ATOL:g}): it does not trace to a shape-independent graph"
        )
    logger.info("exported %s (max difference to eager %.2e)", path, difference)
    return reloaded


def _export_info(
    info: DeployedModelInfo, dimensions: int, options: ExportOptions
) -> dict[str, Any]:
    return {
        "name": info.name,
        "plugin_name": info.plugin_name,
        "embedding_model_id": info.embedding_model_id,
        "model_type": info.model_type,
        "dimensions": dimensions,
        "options": asdict(options),
    }


def is_exported(repository: Path, info: DeployedModelInfo, expected: dict[str, Any]) -> bool:
    """Whether the model folder holds a complete export made with the same options."""
    folder = Path(repository) / info.name
    marker = folder / info.version / EXPORT_INFO_FILE
    if (
        not (folder / CONFIG_FILE).is_file()
        or not (folder / info.version / TORCHSCRIPT_FILE).is_file()
    ):
        return False
    try:
        return bool(json.loads(marker.read_text(encoding="utf-8")) == expected)
    except (OSError, ValueError):
        return False


def _write_model_folder(
    model: EmbeddingsModelInterface,
    tower: torch.nn.Module,
    info: DeployedModelInfo,
    staging: Path,
    export_info: dict[str, Any],
    options: ExportOptions,
) -> None:
    version_dir = staging / info.version
    export_tower(model, tower, version_dir / TORCHSCRIPT_FILE)
    if options.backend == "python":
        shutil.copyfile(python_backend_model.__file__, version_dir / PYTHON_MODEL_FILE)
    config = TowerConfig(
        name=info.name,
        dimensions=model.dimensions,
        backend=options.backend,
        instance_kind=options.instance_kind,
        instance_count=options.instance_count,
        max_batch_size=options.max_batch_size,
        max_queue_delay_us=options.max_queue_delay_us,
    )
    (staging / CONFIG_FILE).write_text(render_config(config), encoding="utf-8")
    (version_dir / EXPORT_INFO_FILE).write_text(json.dumps(export_info, indent=2), encoding="utf-8")


def _replace(staging: Path, target: Path) -> None:
    """Move the staged folder into place; a previous folder is removed first."""
    if target.exists():
        old = target.with_name(f"{STAGING_DIR}-old-{target.name}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    staging.rename(target)


def distinct(
    infos: tuple[DeployedModelInfo, DeployedModelInfo],
) -> list[DeployedModelInfo]:
    """The Triton models to export: one when queries and items share the tower."""
    query_info, items_info = infos
    return [query_info] if query_info is items_info else [query_info, items_info]


def tower_of(model: EmbeddingsModelInterface, info: DeployedModelInfo) -> torch.nn.Module:
    return model.get_query_model() if info.model_type == "query" else model.get_items_model()


@dataclass(frozen=True)
class ExportResult:
    """The Triton models of one embedding model, and which of them were written now
    (the others were already exported with the same options)."""

    models: list[DeployedModelInfo]
    written: list[str]


def export_model(
    model: EmbeddingsModelInterface,
    plugin_name: str,
    embedding_model_id: str,
    repository: str | Path,
    options: ExportOptions | None = None,
) -> ExportResult:
    """Write the model's towers into `repository` (see the module docstring).

    A tower already exported with the same options is left as it is. Returns the
    Triton models of this embedding model (one or two) and those written now.

    :raises ExportError: the model has no tokenizer, or its export is not equivalent
    """
    options = options or ExportOptions()
    repository = Path(repository)
    infos = deployed_model_infos(plugin_name, embedding_model_id, model.same_query_and_items)
    pending = []
    for info in distinct(infos):
        expected = _export_info(info, model.dimensions, options)
        if is_exported(repository, info, expected):
            logger.info("model %s is already exported; keeping it", info.name)
        else:
            pending.append((info, expected))
    if pending:
        _export_pending(model, pending, repository, options)
    return ExportResult(models=distinct(infos), written=[info.name for info, _ in pending])


def _export_pending(
    model: EmbeddingsModelInterface,
    pending: list[tuple[DeployedModelInfo, dict[str, Any]]],
    repository: Path,
    options: ExportOptions,
) -> None:
    if options.quantize_int8:
        if options.instance_kind == "gpu":
            raise ExportError("INFERENCE_QUANTIZE_INT8 needs INFERENCE_INSTANCE_KIND=cpu")
        model = quantize_int8(copy.deepcopy(model))  # the caller's model stays float32
    staging_root = repository / STAGING_DIR
    staging_root.mkdir(parents=True, exist_ok=True)
    for info, expected in pending:
        staging = Path(tempfile.mkdtemp(prefix=f"{info.name}-", dir=staging_root))
        try:
            tower = tower_of(model, info)
            _write_model_folder(model, tower, info, staging, expected, options)
            _replace(staging, repository / info.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def remove_model(repository: str | Path, info: DeployedModelInfo) -> bool:
    """Delete a model's folder from the repository; False when it was not there."""
    folder = Path(repository) / info.name
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


def exported_models(repository: str | Path, embedding_model_id: str) -> list[DeployedModelInfo]:
    """The Triton models exported for `embedding_model_id` in `repository` (read from
    their `export.json`, so no MLflow or plugin is needed to find them)."""
    found = []
    for marker in sorted(Path(repository).glob(f"*/*/{EXPORT_INFO_FILE}")):
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if info.get("embedding_model_id") != embedding_model_id:
            continue
        found.append(
            DeployedModelInfo(
                plugin_name=info["plugin_name"],
                embedding_model_id=embedding_model_id,
                model_type=info["model_type"],
                version=marker.parent.name,
            )
        )
    return found
