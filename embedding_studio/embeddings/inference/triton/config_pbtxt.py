"""Triton model configurations (`config.pbtxt`) of exported embedding towers.

A config is built as Triton's own `ModelConfig` protobuf (shipped with `tritonclient`)
and written in its text format, so `parse_config` reads exactly what Triton reads and
rejects what Triton would reject (unknown fields, bad enum names).

Every tower has the same signature: inputs `input_ids` and `attention_mask` (INT64,
[batch, sequence], both dynamic) and output `output` (FP32, [batch, D]). Two backends
serve it: `libtorch` (Triton images; `model.pt` is loaded by the PyTorch backend) and
`python` (the `model.py` next to `model.pt` runs it; used with the `nvidia-pytriton`
build, which has no libtorch backend).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from google.protobuf import text_format
from google.protobuf.message import Message
from tritonclient.grpc import model_config_pb2

TritonBackend = Literal["libtorch", "python"]
InstanceKind = Literal["cpu", "gpu"]

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "output"
CONFIG_FILE = "config.pbtxt"

_KINDS = {
    "cpu": model_config_pb2.ModelInstanceGroup.KIND_CPU,
    "gpu": model_config_pb2.ModelInstanceGroup.KIND_GPU,
}


class ConfigError(ValueError):
    """A `config.pbtxt` Triton would not load, or one that does not fit the tower."""


@dataclass(frozen=True)
class TowerConfig:
    """What varies between the configs of exported towers.

    :param name: the Triton model name (`<plugin>_<model id>_<query|items>`)
    :param dimensions: D, the length of each output vector
    :param backend: "libtorch" or "python"
    :param instance_kind: "cpu" (KIND_CPU) or "gpu" (KIND_GPU)
    :param instance_count: model instances Triton runs in parallel
    :param max_batch_size: the largest batch (rows) Triton accepts or forms
    :param max_queue_delay_us: how long the dynamic batcher waits to fill a batch, in µs
    """

    name: str
    dimensions: int
    backend: TritonBackend = "libtorch"
    instance_kind: InstanceKind = "cpu"
    instance_count: int = 1
    max_batch_size: int = 64
    max_queue_delay_us: int = 1000

    def __post_init__(self) -> None:
        if self.backend not in ("libtorch", "python"):
            raise ConfigError(f"backend must be 'libtorch' or 'python', got {self.backend!r}")
        if self.instance_kind not in _KINDS:
            raise ConfigError(f"instance_kind must be 'cpu' or 'gpu', got {self.instance_kind!r}")
        if self.dimensions <= 0 or self.instance_count <= 0 or self.max_batch_size <= 0:
            raise ConfigError("dimensions, instance_count and max_batch_size must be > 0")
        if self.max_queue_delay_us < 0:
            raise ConfigError("max_queue_delay_us must be >= 0")


def build_config(tower: TowerConfig) -> model_config_pb2.ModelConfig:
    """The `ModelConfig` protobuf of one tower."""
    config = model_config_pb2.ModelConfig(name=tower.name, max_batch_size=tower.max_batch_size)
    if tower.backend == "libtorch":
        config.platform = "pytorch_libtorch"
        config.backend = "pytorch"
        # Inputs are matched to forward(input_ids, attention_mask) by argument name.
        config.parameters["INFERENCE_MODE"].string_value = "true"
    else:
        config.backend = "python"
    for name in INPUT_NAMES:
        tensor = config.input.add(name=name, data_type=model_config_pb2.TYPE_INT64)
        tensor.dims.append(-1)  # sequence length; the batch dimension is implicit
    output = config.output.add(name=OUTPUT_NAME, data_type=model_config_pb2.TYPE_FP32)
    output.dims.append(tower.dimensions)
    config.instance_group.add(count=tower.instance_count, kind=_KINDS[tower.instance_kind])
    config.dynamic_batching.max_queue_delay_microseconds = tower.max_queue_delay_us
    return config


def render_config(tower: TowerConfig) -> str:
    """`config.pbtxt` text of one tower."""
    return text_format.MessageToString(build_config(tower))


def parse_config(text: str) -> model_config_pb2.ModelConfig:
    """Read `config.pbtxt` text as Triton does.

    :raises ConfigError: the text is not a valid `ModelConfig`
    """
    config = model_config_pb2.ModelConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise ConfigError(f"not a valid Triton model config: {exc}") from exc
    return config


def read_config(model_dir: Path) -> model_config_pb2.ModelConfig:
    """Parse `<model_dir>/config.pbtxt`."""
    return parse_config((Path(model_dir) / CONFIG_FILE).read_text(encoding="utf-8"))


def check_tower_config(config: Message, dimensions: int) -> None:
    """Check that `config` declares the tower signature: INT64 `input_ids` and
    `attention_mask` of shape [-1] (after the batch dimension), FP32 `output` [D], a
    batching model with dynamic batching.

    :raises ConfigError: naming what differs
    """
    assert isinstance(config, model_config_pb2.ModelConfig)
    inputs = {t.name: (t.data_type, list(t.dims)) for t in config.input}
    expected_inputs = {name: (model_config_pb2.TYPE_INT64, [-1]) for name in INPUT_NAMES}
    if inputs != expected_inputs:
        raise ConfigError(f"inputs are {_describe(inputs)}, expected {_describe(expected_inputs)}")
    outputs = {t.name: (t.data_type, list(t.dims)) for t in config.output}
    expected_outputs = {OUTPUT_NAME: (model_config_pb2.TYPE_FP32, [dimensions])}
    if outputs != expected_outputs:
        raise ConfigError(
            f"outputs are {_describe(outputs)}, expected {_describe(expected_outputs)}"
        )
    if config.max_batch_size <= 0:
        raise ConfigError("max_batch_size must be > 0 (the batch dimension is implicit)")
    if not config.HasField("dynamic_batching"):
        raise ConfigError("dynamic_batching is missing")


def _describe(tensors: dict[str, tuple[int, list[int]]]) -> str:
    return ", ".join(
        f"{name} {model_config_pb2.DataType.Name(data_type)} {dims}"
        for name, (data_type, dims) in sorted(tensors.items())
    )
