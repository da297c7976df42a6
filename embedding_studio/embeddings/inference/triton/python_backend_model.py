"""A Triton Python-backend model that runs the exported TorchScript tower (`model.pt`).

The exporter copies this file to `<model>/1/model.py` when the model repository is
written for the Python backend (`INFERENCE_TRITON_BACKEND=python`): the Triton build
bundled with the `nvidia-pytriton` wheel has no libtorch backend, so tests and CPU-only
hosts serve the same `model.pt` through this file. Production Triton images load
`model.pt` directly with the libtorch backend.

Contract (the same as the libtorch config): inputs `input_ids` and `attention_mask`,
INT64 [N, L]; output `output`, FP32 [N, D]. Requests batched together by Triton's
dynamic batcher are padded to one length and run in one forward pass.

Importing this module needs nothing: `triton_python_backend_utils` and torch are
imported when Triton initialises the model.
"""

from __future__ import annotations

import json
import os
from typing import Any

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "output"
TORCHSCRIPT_FILE = "model.pt"


def pad_and_stack(tensors: list[Any]) -> tuple[Any, list[int]]:
    """Stack [n_i, L_i] int64 torch tensors into one [sum n_i, max L_i] tensor, padding
    with 0 (pad token id and masked position alike); returns it and each row count."""
    import torch

    width = max(int(tensor.shape[1]) for tensor in tensors)
    rows = [int(tensor.shape[0]) for tensor in tensors]
    stacked = torch.zeros((sum(rows), width), dtype=torch.int64)
    start = 0
    for tensor in tensors:
        stacked[start : start + tensor.shape[0], : tensor.shape[1]] = tensor
        start += int(tensor.shape[0])
    return stacked, rows


class TritonPythonModel:
    """Triton's entry point: `initialize` loads `model.pt`, `execute` embeds a batch."""

    def initialize(self, args: dict[str, str]) -> None:
        import torch

        self._torch = torch
        threads = os.environ.get("ES_TRITON_TORCH_THREADS")
        if threads:
            torch.set_num_threads(int(threads))
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        kind = args.get("model_instance_kind", "CPU")
        self.device = "cuda" if kind == "GPU" and torch.cuda.is_available() else "cpu"
        self.model = torch.jit.load(
            os.path.join(version_dir, TORCHSCRIPT_FILE), map_location=self.device
        )
        self.model.eval()
        self.config = json.loads(args["model_config"])

    def execute(self, requests: list[Any]) -> list[Any]:
        import triton_python_backend_utils as pb_utils

        torch = self._torch
        # Tensors cross the stub by DLPack, not numpy: the stub's numpy bindings are
        # built for numpy 1 and return empty arrays under numpy 2.
        inputs = {
            name: [
                torch.from_dlpack(pb_utils.get_input_tensor_by_name(r, name).to_dlpack())
                for r in requests
            ]
            for name in INPUT_NAMES
        }
        input_ids, rows = pad_and_stack(inputs["input_ids"])
        attention_mask, _ = pad_and_stack(inputs["attention_mask"])
        with torch.inference_mode():
            vectors = self.model(input_ids.to(self.device), attention_mask.to(self.device))
        output = vectors.to("cpu", torch.float32)
        responses = []
        for chunk in torch.split(output, rows):
            capsule = torch.utils.dlpack.to_dlpack(chunk.contiguous())
            tensor = pb_utils.Tensor.from_dlpack(OUTPUT_NAME, capsule)
            responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
        return responses

    def finalize(self) -> None:
        self.model = None
