"""Embedding clients of one plugin, and the factory that picks in-process or Triton.

`TritonClientFactory.get_client(embedding_model_id)` returns an `EmbeddingClient`:
- `settings.INFERENCE_BACKEND == "local"`: a `LocalInferenceClient` running the model
  downloaded from the plugin's experiments manager (kept in a small in-memory LRU);
- `"triton"`: a `TritonClient` calling `<plugin>_<model id>_{query,items}` over gRPC,
  with retries per `RetryConfig`; failures end in `InferenceUnavailable` (HTTP 503).

Subclasses (`TextToTextE5TritonClientFactory`, `TextToTextBERTTritonClientFactory`)
implement `_create_triton_client`.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from functools import cached_property
from typing import Any

import numpy as np
from tritonclient.grpc import InferenceServerClient, InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from embedding_studio.core.errors import NotFound
from embedding_studio.embeddings.inference.client import EmbeddingClient, QueryPreprocessor
from embedding_studio.embeddings.inference.loaded_models import loaded_models
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.inference.retry import (
    RetryConfig,
    RetryParams,
    call_with_retry,
    retry_method,
)
from embedding_studio.embeddings.inference.triton.failures import InferenceFailure, TritonCallFailed
from embedding_studio.embeddings.inference.triton.model_info import (
    DeployedModelInfo,
    deployed_model_infos,
)

__all__ = ["RetryConfig", "RetryParams", "TritonClient", "TritonClientFactory", "retry_method"]

logger = logging.getLogger(__name__)

OUTPUT_NAME = "output"
DEADLINE_EXCEEDED = "StatusCode.DEADLINE_EXCEEDED"


class TritonClient(EmbeddingClient):
    """Embeds through models deployed on a Triton server (gRPC).

    Subclasses turn texts into Triton inputs (`_prepare_query`, `_prepare_items`); the
    deployed model returns float32 [N, D] as output "output".

    :param url: Triton's gRPC address, "host:port"
    :param plugin_name: the plugin's `meta.name`
    :param embedding_model_id: the MLflow run id of the model
    :param same_query_and_items: one deployed model serves queries and items
    :param retry_config: retries of "query_inference" and "items_inference" calls
    :param preprocessor: converts dict queries to text
    :param timeout_s: deadline of one request, retries included
        (None: `settings.INFERENCE_TIMEOUT_S`)
    """

    def __init__(
        self,
        url: str,
        plugin_name: str,
        embedding_model_id: str,
        same_query_and_items: bool = False,
        retry_config: RetryConfig | None = None,
        preprocessor: QueryPreprocessor | None = None,
        timeout_s: float | None = None,
        batch_size: int | None = None,
    ) -> None:
        super().__init__(preprocessor=preprocessor, batch_size=batch_size)
        self.url = url
        self.plugin_name = plugin_name
        self.embedding_model_id = embedding_model_id
        self.same_query_and_items = same_query_and_items
        self.retry_config = retry_config or RetryConfig()
        self.query_model_info, self.items_model_info = deployed_model_infos(
            plugin_name, embedding_model_id, same_query_and_items
        )
        if timeout_s is None:
            from embedding_studio.core.config import settings

            timeout_s = settings.INFERENCE_TIMEOUT_S
        self.timeout_s = timeout_s

    @cached_property
    def client(self) -> InferenceServerClient:
        """The gRPC client (thread-safe; created on first use, connects lazily)."""
        return InferenceServerClient(url=self.url)

    # --- inputs (model-specific) ---------------------------------------------------
    @abstractmethod
    def _prepare_query(self, query: str) -> list[InferInput]:
        """Triton inputs for one query text."""

    @abstractmethod
    def _prepare_items(self, items: list[str]) -> list[InferInput]:
        """Triton inputs for a batch of item texts."""

    # --- calls ---------------------------------------------------------------------
    def is_retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, TritonCallFailed) and exc.retryable

    def _infer(
        self, model: DeployedModelInfo, inputs: list[InferInput], timeout_s: float
    ) -> np.ndarray:
        try:
            response = self.client.infer(
                model.name,
                inputs=inputs,
                model_version=model.version,
                outputs=[InferRequestedOutput(OUTPUT_NAME)],
                client_timeout=timeout_s,
            )
        except InferenceServerException as exc:
            raise TritonCallFailed(model.name, self.url, exc) from exc
        output = response.as_numpy(OUTPUT_NAME)
        if output is None:
            raise InferenceFailure(f"model {model.name} returned no {OUTPUT_NAME!r}").error()
        return output

    def _call(self, name: str, model: DeployedModelInfo, inputs: list[InferInput]) -> np.ndarray:
        """One request with retries per `retry_config[name]`, all within `timeout_s`."""
        deadline = time.monotonic() + self.timeout_s

        def attempt() -> np.ndarray:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                expired = InferenceServerException("deadline exceeded", DEADLINE_EXCEEDED)
                raise TritonCallFailed(model.name, self.url, expired)
            return self._infer(model, inputs, remaining)

        return call_with_retry(
            attempt, self.retry_config[name], self.is_retryable, name=name, deadline=deadline
        )

    def _send_query_request(self, inputs: list[InferInput]) -> np.ndarray:
        return self._call("query_inference", self.query_model_info, inputs)

    def _send_items_request(self, inputs: list[InferInput]) -> np.ndarray:
        return self._call("items_inference", self.items_model_info, inputs)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        try:
            return np.concatenate(
                [self._send_query_request(self._prepare_query(text)) for text in texts]
            )
        except TritonCallFailed as failure:
            raise InferenceFailure.from_call(failure).error() from failure

    def _embed_items(self, texts: list[str]) -> np.ndarray:
        try:
            return self._send_items_request(self._prepare_items(texts))
        except TritonCallFailed as failure:
            raise InferenceFailure.from_call(failure).error() from failure

    def is_deployed(self) -> bool:
        """True when Triton answers that every model this client calls is ready."""
        models = {self.query_model_info, self.items_model_info}
        try:
            return all(
                self.client.is_model_ready(m.name, m.version, client_timeout=self.timeout_s)
                for m in models
            )
        except InferenceServerException:
            return False


class TritonClientFactory:
    """Creates the embedding clients of one plugin for a given embedding model id.

    :param url: Triton's gRPC address, "host:port" (unused when inference is local)
    :param plugin_name: the plugin's `meta.name`
    :param same_query_and_items: the model has one tower for queries and items
    :param retry_config: retries of Triton calls
    """

    def __init__(
        self,
        url: str,
        plugin_name: str,
        same_query_and_items: bool = False,
        retry_config: RetryConfig | None = None,
    ) -> None:
        self.url = url
        self.plugin_name = plugin_name
        self.same_query_and_items = same_query_and_items
        self.retry_config = retry_config or RetryConfig()
        self.preprocessor: QueryPreprocessor | None = None

    def get_client(self, embedding_model_id: str, **kwargs: Any) -> EmbeddingClient:
        """A client embedding with model `embedding_model_id`, through the backend that
        `settings.INFERENCE_BACKEND` names. Extra keyword arguments go to the Triton
        client's constructor."""
        from embedding_studio.core.config import settings

        if settings.INFERENCE_BACKEND == "local":
            return self.get_local_client(embedding_model_id)
        return self._create_triton_client(embedding_model_id, **kwargs)

    def get_local_client(self, embedding_model_id: str) -> LocalInferenceClient:
        """An in-process client; the model is downloaded from MLflow on first use (and
        quantised to dynamic int8 when `settings.INFERENCE_QUANTIZE_INT8` is set), and
        embeds in `settings.INFERENCE_LOCAL_RUNTIME` (int8 models: torch)."""
        from embedding_studio.core.config import settings

        model = loaded_models.get_or_load(
            embedding_model_id, lambda: self._download_model(embedding_model_id)
        )
        runtime = "torch" if settings.INFERENCE_QUANTIZE_INT8 else settings.INFERENCE_LOCAL_RUNTIME
        return LocalInferenceClient(model, preprocessor=self.preprocessor, runtime=runtime)

    def _download_model(self, embedding_model_id: str) -> Any:
        from embedding_studio.context.app_context import context
        from embedding_studio.core.config import settings

        plugin = context.plugin_manager.get_plugin(self.plugin_name)
        if plugin is None:
            raise NotFound(f"plugin {self.plugin_name} is not registered in this process")
        model = plugin.get_manager().download_model(embedding_model_id)
        if settings.INFERENCE_QUANTIZE_INT8:
            from embedding_studio.embeddings.inference.quantization import quantize_int8

            model = quantize_int8(model)
        return model

    def _create_triton_client(self, embedding_model_id: str, **kwargs: Any) -> TritonClient:
        """The model-specific Triton client; subclasses implement it."""
        raise NotImplementedError(
            f"{type(self).__name__} has no Triton client: use a model-specific factory "
            "(TextToTextE5TritonClientFactory, TextToTextBERTTritonClientFactory) or set "
            "INFERENCE_BACKEND=local"
        )
