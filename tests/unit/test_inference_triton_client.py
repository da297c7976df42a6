"""Triton clients without a Triton server: model names, tokenization parity with the
in-process model, retries and error messages, and the gRPC wire format.

The wire-format tests talk to a small gRPC servicer written here that implements
Triton's `ModelInfer` RPC (tritonclient's own protobuf service) and runs the model in
process. It stands in for Triton only to check what the client sends and how it reads
answers; the round trip against a real Triton server belongs to the inference issue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent import futures
from types import SimpleNamespace
from typing import Any

import grpc
import numpy as np
import pytest
import torch
from tritonclient.grpc import service_pb2, service_pb2_grpc

from embedding_studio.core.errors import InferenceUnavailable
from embedding_studio.embedded.services import free_port
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.inference.retry import RetryConfig, RetryParams
from embedding_studio.embeddings.inference.triton.client import TritonClientFactory
from embedding_studio.embeddings.inference.triton.model_info import (
    DeployedModelInfo,
    deployed_model_infos,
)
from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
    TextToTextBERTTritonClient,
    TextToTextBERTTritonClientFactory,
)
from embedding_studio.embeddings.inference.triton.text_to_text.e5 import (
    TextToTextE5TritonClient,
    TextToTextE5TritonClientFactory,
)
from embedding_studio.embeddings.models.downloader import ModelDownloader
from embedding_studio.embeddings.models.text_to_text.e5 import TextToTextE5Model

MODEL_ID = "0123456789abcdef0123456789abcdef"
NO_WAIT = RetryConfig(default_params=RetryParams(max_attempts=3, wait_time_seconds=0))
TEXTS = ["short", "a longer text about cells " * 80, "medium length text here"]


@pytest.fixture
def use_triton(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """INFERENCE_BACKEND=triton and a context whose model_downloader is real."""
    from embedding_studio.context import app_context
    from embedding_studio.core.config import settings

    monkeypatch.setattr(settings, "INFERENCE_BACKEND", "triton")
    fake = SimpleNamespace(model_downloader=ModelDownloader(str(tmp_path)))
    monkeypatch.setattr(app_context, "context", fake)


def e5_factory(url: str, **kwargs: Any) -> TextToTextE5TritonClientFactory:
    return TextToTextE5TritonClientFactory(
        url, plugin_name="TestPlugin", model_name="sentence-transformers/all-MiniLM-L6-v2", **kwargs
    )


def test_deployed_model_names() -> None:
    query, items = deployed_model_infos("MyPlugin", MODEL_ID, same_query_and_items=False)
    assert query.name == f"MyPlugin_{MODEL_ID}_query" and items.name == f"MyPlugin_{MODEL_ID}_items"
    assert query.version == "1"
    shared = deployed_model_infos("MyPlugin", MODEL_ID, same_query_and_items=True)
    assert shared[0] is shared[1]
    with pytest.raises(ValueError):
        DeployedModelInfo("My Plugin", MODEL_ID, "query")
    with pytest.raises(ValueError):
        DeployedModelInfo("MyPlugin", "../x", "items")


def test_factory_construction_loads_nothing() -> None:
    """No context, no tokenizer: building a plugin's factory must stay cheap."""
    factory = e5_factory("127.0.0.1:1")
    assert "tokenizer" not in factory.__dict__


def test_e5_client_tokenizes_like_the_model(use_triton: None, minilm: Any) -> None:
    client = e5_factory("127.0.0.1:1").get_client(MODEL_ID)
    assert isinstance(client, TextToTextE5TritonClient)
    assert client.max_length == 256  # the model's max_seq_length, not the tokenizer's 512
    model = TextToTextE5Model(minilm)
    arrays = client.tokenize([client.items_prefix + t for t in TEXTS])
    expected = model.tokenize(model.prepare_items(TEXTS))
    for name in ("input_ids", "attention_mask"):
        assert arrays[name].dtype == np.int64
        np.testing.assert_array_equal(arrays[name], expected[name].numpy())
    assert arrays["input_ids"].shape[1] == 256  # the long text was truncated


def test_bert_factory_makes_bert_clients_without_prefixes(use_triton: None) -> None:
    factory = TextToTextBERTTritonClientFactory("127.0.0.1:1", plugin_name="TestPlugin")
    client = factory.get_client(MODEL_ID)
    assert isinstance(client, TextToTextBERTTritonClient)
    assert client.query_prefix == "" and client.items_prefix == ""
    assert client.query_model_info.name == f"TestPlugin_{MODEL_ID}_query"


def test_unreachable_triton_is_retried_then_unavailable(
    use_triton: None, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"127.0.0.1:{free_port()}"
    client = e5_factory(url, retry_config=NO_WAIT).get_client(MODEL_ID, timeout_s=2.0)
    with caplog.at_level(logging.WARNING), pytest.raises(InferenceUnavailable) as error:
        client.forward_query("anything")
    assert "unreachable" in str(error.value) and url in str(error.value)
    assert sum("attempt" in r.getMessage() for r in caplog.records) == 2  # 3 attempts in all
    assert not client.is_deployed()


def test_base_factory_without_triton_client_says_what_to_do(use_triton: None) -> None:
    factory = TritonClientFactory("127.0.0.1:1", plugin_name="TestPlugin")
    with pytest.raises(NotImplementedError, match="INFERENCE_BACKEND=local"):
        factory.get_client(MODEL_ID)


class _TritonStandIn(service_pb2_grpc.GRPCInferenceServiceServicer):
    """Implements Triton's ModelInfer for one deployed model, run by a torch tower."""

    def __init__(self, model_name: str, tower: torch.nn.Module) -> None:
        self.model_name = model_name
        self.tower = tower
        self.requests: list[Any] = []
        self.fail_next: grpc.StatusCode | None = None
        self.delay_s = 0.0

    def ModelInfer(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC name)
        self.requests.append(request)
        time.sleep(self.delay_s)
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            context.abort(code, "Server is busy")
        if request.model_name != self.model_name or request.model_version != "1":
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"Request for unknown model: '{request.model_name}' is not found",
            )
        arrays = {
            tensor.name: np.frombuffer(raw, dtype=np.int64).reshape(list(tensor.shape))
            for tensor, raw in zip(request.inputs, request.raw_input_contents, strict=True)
        }
        with torch.inference_mode():
            output = self.tower(
                torch.from_numpy(arrays["input_ids"].copy()),
                torch.from_numpy(arrays["attention_mask"].copy()),
            ).numpy()
        tensor = service_pb2.ModelInferResponse.InferOutputTensor(
            name="output", datatype="FP32", shape=list(output.shape)
        )
        return service_pb2.ModelInferResponse(
            model_name=request.model_name,
            model_version="1",
            outputs=[tensor],
            raw_output_contents=[output.astype(np.float32).tobytes()],
        )


@pytest.fixture
def stand_in(minilm: Any) -> Iterator[tuple[str, _TritonStandIn]]:
    servicer = _TritonStandIn(
        f"TestPlugin_{MODEL_ID}_query", TextToTextE5Model(minilm).get_query_model()
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(grace=None)


def test_grpc_round_trip_matches_in_process_vectors(
    use_triton: None, minilm: Any, stand_in: tuple[str, _TritonStandIn]
) -> None:
    url, servicer = stand_in
    client = e5_factory(url, retry_config=NO_WAIT).get_client(MODEL_ID, batch_size=2)
    local = LocalInferenceClient(TextToTextE5Model(minilm), batch_size=2)
    query = client.forward_query("cells")
    np.testing.assert_allclose(query, local.forward_query("cells"), atol=1e-5)
    np.testing.assert_allclose(client.forward_items(TEXTS), local.forward_items(TEXTS), atol=1e-5)
    first = servicer.requests[0]
    assert [t.name for t in first.inputs] == ["input_ids", "attention_mask"]
    assert {t.datatype for t in first.inputs} == {"INT64"}
    assert [o.name for o in first.outputs] == ["output"]
    assert len(servicer.requests) == 1 + 2  # one query, items in batches of 2


def test_transient_error_is_retried(use_triton: None, stand_in: tuple[str, _TritonStandIn]) -> None:
    url, servicer = stand_in
    servicer.fail_next = grpc.StatusCode.UNAVAILABLE
    client = e5_factory(url, retry_config=NO_WAIT).get_client(MODEL_ID)
    assert client.forward_query("cells").shape == (384,)
    assert len(servicer.requests) == 2


def test_model_not_deployed_is_reported_without_retrying(
    use_triton: None, stand_in: tuple[str, _TritonStandIn]
) -> None:
    url, servicer = stand_in
    client = e5_factory(url, retry_config=NO_WAIT).get_client("fedcba9876543210fedcba9876543210")
    with pytest.raises(InferenceUnavailable, match="is not deployed on Triton") as error:
        client.forward_items(["x"])
    assert "deploy" in str(error.value)
    assert len(servicer.requests) == 1


def test_a_hanging_server_ends_the_request_at_the_timeout(
    use_triton: None, stand_in: tuple[str, _TritonStandIn]
) -> None:
    """The timeout bounds the whole request: no retry starts after it."""
    url, servicer = stand_in
    servicer.delay_s = 1.5
    client = e5_factory(url, retry_config=NO_WAIT).get_client(MODEL_ID, timeout_s=0.5)
    with pytest.raises(InferenceUnavailable, match="in time"):
        client.forward_query("cells")
    assert len(servicer.requests) == 1
