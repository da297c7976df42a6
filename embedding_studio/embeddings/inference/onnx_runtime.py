"""In-process embedding through ONNX Runtime instead of eager torch.

A `SentenceTransformerTextModel`'s tower (`forward(input_ids, attention_mask) -> [N, D]`,
the one exported for Triton; queries and items share it) is exported to ONNX in memory
the first time the model embeds anything, and run by onnxruntime on the CPU. On 2 CPU
cores MiniLM embeds one query in 3.7 ms this way against 8.7 ms in eager torch (most of
a search's time), and 1.6-1.7x as many texts per second in batches of 16 (SciFact
sentences 285 against 165/s, documents 47 against 30/s).

An export is checked against the eager tower on texts of other lengths and another batch
size than the ones it was traced with (`CHECK_TEXTS`); a model that cannot be exported,
or whose export differs by more than `EQUIVALENCE_ATOL`, keeps running with torch and the
reason is logged once. Other model classes (a plugin's own `EmbeddingsModelInterface`)
always run with torch. `INFERENCE_LOCAL_RUNTIME=torch` turns the runtime off.

Models are exported once per object and process: they must not change afterwards, which
holds for the models the inference clients load by id (`loaded_models`); fine-tuning
trains its own copies.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from embedding_studio.embeddings.inference.triton.export import (
    CHECK_TEXTS,
    EQUIVALENCE_ATOL,
    TRACE_TEXTS,
    ExportError,
    max_difference,
    tokenize,
)
from embedding_studio.embeddings.models.text_to_text.sentence_transformer_model import (
    SentenceTransformerTextModel,
)

if TYPE_CHECKING:
    import onnxruntime

    from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

logger = logging.getLogger(__name__)

LocalRuntime = Literal["onnx", "torch"]
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "output"
# The legacy (TorchScript-based) exporter: the dynamo one needs onnxscript and re-traces
# the Hugging Face model with guards it does not pass for every architecture.
OPSET_VERSION = 17


class OnnxTower:
    """One exported tower: `run(input_ids, attention_mask) -> float32 [N, D]`."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        (output,) = self.session.run([OUTPUT_NAME], inputs)
        return np.asarray(output, dtype=np.float32)

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """`run` on torch tensors, so `max_difference` compares it with the eager tower."""
        return torch.from_numpy(self.run(input_ids.numpy(), attention_mask.numpy()))


def export_tower(model: EmbeddingsModelInterface, tower: torch.nn.Module) -> OnnxTower:
    """`tower` of `model` exported to ONNX and loaded into an onnxruntime session, after
    checking it reproduces the eager tower.

    :raises ExportError: the tower does not export, or its export differs from it
    """
    import onnxruntime

    tower = tower.eval().to("cpu")
    options = onnxruntime.SessionOptions()
    # As many threads as torch has: OMP_NUM_THREADS / torch.set_num_threads keep
    # governing how much of the CPU one embedding call takes.
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    # Idle threads spinning for work take CPU from PostgreSQL and the other requests on a
    # small machine; a search waits a few microseconds longer instead.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        _onnx_graph(tower, tokenize(model, TRACE_TEXTS)),
        options,
        providers=["CPUExecutionProvider"],
    )
    exported = OnnxTower(session)
    difference = _max_difference(model, tower, exported)
    if difference > EQUIVALENCE_ATOL:
        raise ExportError(
            f"the ONNX tower differs from the eager model by {difference:.2e} "
            f"(> {EQUIVALENCE_ATOL:g}): it does not trace to a shape-independent graph"
        )
    return exported


def _onnx_graph(tower: torch.nn.Module, example: tuple[torch.Tensor, ...]) -> bytes:
    """The serialized ONNX graph of `tower`, traced on `example` (which has padding)."""
    with tempfile.TemporaryDirectory(prefix="es-onnx-") as folder:
        path = Path(folder) / "tower.onnx"
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                # Tracer warnings flag shape-dependent branches; `export_tower` checks
                # the graph on other shapes instead.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    tower, example, str(path),
                    input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "tokens"},
                        "attention_mask": {0: "batch", 1: "tokens"},
                        OUTPUT_NAME: {0: "batch"},
                    },
                    opset_version=OPSET_VERSION, dynamo=False,
                )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - any exporter failure: not exportable
            raise ExportError(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from exc
        return path.read_bytes()


def _max_difference(
    model: EmbeddingsModelInterface, tower: torch.nn.Module, exported: OnnxTower
) -> float:
    return max(
        max_difference(tower, exported, tokenize(model, texts))
        for texts in (CHECK_TEXTS, CHECK_TEXTS[1:2])  # a padded batch, and a single text
    )


class OnnxTextModel:
    """The tower of a `SentenceTransformerTextModel` in onnxruntime; embeds exactly as the
    model's `forward_query` and `forward_items` (prefixes, tokenization with truncation at
    the model's maximum length)."""

    def __init__(self, model: SentenceTransformerTextModel) -> None:
        # Weak: this object is the value of a WeakKeyDictionary keyed by the model, and a
        # strong reference would keep every model ever exported in memory.
        self._model = weakref.ref(model)
        # One tower: a SentenceTransformerTextModel's queries and items share its weights.
        self.tower = export_tower(model, model.get_query_model())

    def embed_queries(self, queries: list[str]) -> np.ndarray:
        return self._embed(lambda model: model.prepare_queries(queries))

    def embed_items(self, items: list[str]) -> np.ndarray:
        return self._embed(lambda model: model.prepare_items(items))

    def _embed(self, prepare: Callable[[SentenceTransformerTextModel], list[str]]) -> np.ndarray:
        model = self._model()
        if model is None:  # only a client holding the model calls this
            raise RuntimeError("the exported model has been released")
        input_ids, attention_mask = tokenize(model, prepare(model))
        return self.tower.run(input_ids.numpy(), attention_mask.numpy())


# None records a model that runs with torch, so its export is not tried again.
_exported: weakref.WeakKeyDictionary[torch.nn.Module, OnnxTextModel | None] = (
    weakref.WeakKeyDictionary()
)
_exported_guard = threading.Lock()


def onnx_text_model(model: EmbeddingsModelInterface) -> OnnxTextModel | None:
    """The model's tower in ONNX Runtime (exported on the first call for this object), or
    None when it runs with torch: not a `SentenceTransformerTextModel`, or its export
    failed or differs (logged).

    The export runs outside the registry's lock, so the other models' calls do not wait
    for it; `LocalInferenceClient` calls this under its model's lock, so one model is
    exported once."""
    with _exported_guard:
        if model in _exported:
            return _exported[model]
    runner = _export(model)
    with _exported_guard:
        return _exported.setdefault(model, runner)


def _export(model: EmbeddingsModelInterface) -> OnnxTextModel | None:
    if not isinstance(model, SentenceTransformerTextModel):
        return None
    try:
        runner = OnnxTextModel(model)
    except (ExportError, ImportError) as exc:
        logger.warning("%s embeds with torch: %s", type(model).__name__, exc)
        return None
    logger.info("%s embeds in ONNX Runtime", type(model).__name__)
    return runner
