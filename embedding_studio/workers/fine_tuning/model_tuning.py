"""Model-level knobs of a trial: frozen bottom layers, training sequence length, and
the optimizer over the trainable parameters."""

from __future__ import annotations

import logging

import torch

from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.workers.fine_tuning.params import FineTuningParams

logger = logging.getLogger(__name__)

_LAYER_LIST_NAMES = ("layer", "layers", "block", "blocks")


def _encoder_layers(module: torch.nn.Module) -> tuple[str, torch.nn.ModuleList] | None:
    """The first ModuleList of transformer layers (BERT's `encoder.layer`, ...)."""
    for name, child in module.named_modules():
        if isinstance(child, torch.nn.ModuleList) and name.split(".")[-1] in _LAYER_LIST_NAMES:
            return name, child
    return None


def freeze_bottom_layers(model: torch.nn.Module, count: int) -> int:
    """Freeze the token embeddings and the first `count` transformer layers; returns
    how many layers were frozen (0 when no layer list is found, with a warning)."""
    if count <= 0:
        return 0
    found = _encoder_layers(model)
    if found is None:
        logger.warning("no transformer layer list in %s: nothing frozen", type(model).__name__)
        return 0
    name, layers = found
    prefix = name.rsplit(".", 2)[0] if name.count(".") >= 2 else ""
    for module_name, module in model.named_modules():
        if module_name.endswith("embeddings") and module_name.startswith(prefix):
            module.requires_grad_(False)
            break
    frozen = min(count, len(layers))
    for layer in list(layers)[:frozen]:
        layer.requires_grad_(False)
    return frozen


def _length_owner(model: EmbeddingsModelInterface) -> object | None:
    """The object whose `max_seq_length` bounds the model's inputs (a wrapped
    SentenceTransformer), or None."""
    for candidate in (getattr(model, "model", None), model):
        if candidate is not None and isinstance(getattr(candidate, "max_seq_length", None), int):
            return candidate
    return None


def max_length(model: EmbeddingsModelInterface) -> int | None:
    """The model's current bound on tokens per text, when it has a settable one."""
    owner = _length_owner(model)
    return None if owner is None else int(owner.max_seq_length)  # type: ignore[attr-defined]


def set_max_length(model: EmbeddingsModelInterface, length: int | None) -> None:
    """Bound the tokens per text; None, or a model without `max_seq_length`: no change."""
    owner = _length_owner(model)
    if owner is not None and length is not None:
        owner.max_seq_length = length  # type: ignore[attr-defined]


def training_length(model: EmbeddingsModelInterface, wanted: int | None) -> int | None:
    """The bound to train with: `wanted` when shorter than the model's own."""
    own = max_length(model)
    if wanted is None or own is None:
        return own
    return min(wanted, own)


def build_optimizer(model: EmbeddingsModelInterface, params: FineTuningParams) -> torch.optim.AdamW:
    """AdamW over the trainable parameters: one group per tower (one when shared)."""
    items = [p for p in model.get_items_model_params() if p.requires_grad]
    groups = [
        {
            "params": items,
            "lr": params.items_learning_rate,
            "weight_decay": params.items_weight_decay,
        }
    ]
    if not model.same_query_and_items:
        seen = {id(p) for p in items}
        query = [p for p in model.get_query_model_params() if p.requires_grad and id(p) not in seen]
        if query:
            groups.append(
                {
                    "params": query,
                    "lr": params.query_learning_rate,
                    "weight_decay": params.query_weight_decay,
                }
            )
    if not any(group["params"] for group in groups):
        raise ValueError("the model has no trainable parameter left (num_fixed_layers too high?)")
    return torch.optim.AdamW(groups)
