"""Dynamic int8 quantisation of an embedding model's Linear layers (CPU only).

Weights are stored as int8 and activations quantised on the fly
(`torch.ao.quantization.quantize_dynamic`). On this project's CPU figures it is about
2-3x faster than float32 but moves vectors, so it is an opt-in
(`INFERENCE_QUANTIZE_INT8`); `benchmarks/inference_speed.py` measures speed and the
SciFact nDCG@10 change.
"""

from __future__ import annotations

import logging
import warnings
from typing import TypeVar

import torch

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=torch.nn.Module)


def quantize_int8(model: M) -> M:
    """`model` with every `torch.nn.Linear` replaced by a dynamically quantised int8 one,
    in place (the same object is returned), in eval mode, on the CPU.

    :raises ValueError: the model has parameters on another device than the CPU
    """
    for parameter in model.parameters():
        if parameter.device.type != "cpu":
            raise ValueError(
                f"int8 dynamic quantisation runs on the CPU; the model is on {parameter.device}"
            )
        break
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notices
        torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    logger.info("quantised %s to dynamic int8", type(model).__name__)
    return model
