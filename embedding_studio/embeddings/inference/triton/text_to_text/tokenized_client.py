"""Triton clients for text models that take token ids: texts are tokenized here, the
deployed model receives `input_ids` and `attention_mask` (INT64, [N, L]).

Tokenization matches `SentenceTransformer.preprocess` (pad to the longest text,
truncate at `max_length`), so Triton vectors equal in-process ones.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from tritonclient.grpc import InferInput

from embedding_studio.embeddings.inference.client import QueryPreprocessor
from embedding_studio.embeddings.inference.retry import RetryConfig
from embedding_studio.embeddings.inference.triton.client import TritonClient, TritonClientFactory

logger = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask")
FALLBACK_MAX_LENGTH = 512


def tokenize_to_arrays(tokenizer: Any, texts: list[str], max_length: int) -> dict[str, np.ndarray]:
    """`input_ids` and `attention_mask` as int64 [N, L] arrays."""
    encoded = tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="np"
    )
    return {name: np.ascontiguousarray(encoded[name], dtype=np.int64) for name in INPUT_NAMES}


def to_infer_inputs(arrays: dict[str, np.ndarray]) -> list[InferInput]:
    inputs = []
    for name, array in arrays.items():
        infer_input = InferInput(name, list(array.shape), "INT64")
        infer_input.set_data_from_numpy(array)
        inputs.append(infer_input)
    return inputs


def sentence_transformer_max_length(model_path: str) -> int | None:
    """`max_seq_length` from a SentenceTransformer folder, or None."""
    config = Path(model_path) / "sentence_bert_config.json"
    if not config.is_file():
        return None
    value = json.loads(config.read_text(encoding="utf-8")).get("max_seq_length")
    return int(value) if value else None


class TokenizedTextTritonClient(TritonClient):
    """Adds the model's prefixes, tokenizes, and calls the deployed towers.

    :param tokenizer: the model's Hugging Face tokenizer
    :param max_length: truncation length in tokens
    :param query_prefix: prepended to every query ("query: " for E5)
    :param items_prefix: prepended to every item ("passage: " for E5)
    Other parameters: see `TritonClient`.
    """

    def __init__(
        self,
        url: str,
        plugin_name: str,
        embedding_model_id: str,
        tokenizer: Any,
        max_length: int,
        query_prefix: str = "",
        items_prefix: str = "",
        same_query_and_items: bool = True,
        retry_config: RetryConfig | None = None,
        preprocessor: QueryPreprocessor | None = None,
        timeout_s: float | None = None,
        batch_size: int | None = None,
    ) -> None:
        super().__init__(
            url, plugin_name, embedding_model_id, same_query_and_items=same_query_and_items,
            retry_config=retry_config, preprocessor=preprocessor, timeout_s=timeout_s,
            batch_size=batch_size,
        )  # fmt: skip
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.query_prefix = query_prefix
        self.items_prefix = items_prefix
        self._tokenizer_lock = threading.Lock()  # HF tokenizers are not thread-safe

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._tokenizer_lock:
            return tokenize_to_arrays(self.tokenizer, texts, self.max_length)

    def _prepare_query(self, query: str) -> list[InferInput]:
        return to_infer_inputs(self.tokenize([self.query_prefix + query]))

    def _prepare_items(self, items: list[str]) -> list[InferInput]:
        return to_infer_inputs(self.tokenize([self.items_prefix + item for item in items]))


class TokenizedTextTritonClientFactory(TritonClientFactory):
    """Factory of `TokenizedTextTritonClient`s for a hub model; its tokenizer is loaded
    through `context.model_downloader` on the first Triton client, not at construction.

    :param url: Triton's gRPC address, "host:port"
    :param plugin_name: the plugin's `meta.name`
    :param preprocessor: converts dict queries to text (e.g. the plugin's preprocessor)
    :param model_name: hub name (or folder) of the model, for its tokenizer
    :param retry_config: retries of Triton calls
    :param max_length: truncation length (None: the model's `max_seq_length`, else 512)
    """

    query_prefix = ""
    items_prefix = ""
    client_class: type[TokenizedTextTritonClient] = TokenizedTextTritonClient

    def __init__(
        self,
        url: str,
        plugin_name: str,
        preprocessor: QueryPreprocessor | None = None,
        model_name: str = "",
        retry_config: RetryConfig | None = None,
        max_length: int | None = None,
        same_query_and_items: bool = True,
    ) -> None:
        super().__init__(
            url=url,
            plugin_name=plugin_name,
            same_query_and_items=same_query_and_items,
            retry_config=retry_config,
        )
        if not model_name:
            raise ValueError("model_name is required to load the tokenizer")
        self.preprocessor = preprocessor
        self.model_name = model_name
        self._max_length = max_length

    @cached_property
    def tokenizer(self) -> Any:
        from embedding_studio.context.app_context import context

        load: Callable[[str], Any] = _load_tokenizer
        return context.model_downloader.download_model(model_name=self.model_name, download_fn=load)

    @cached_property
    def max_length(self) -> int:
        if self._max_length is not None:
            return self._max_length
        from embedding_studio.context.app_context import context

        path = context.model_downloader.resolve(self.model_name)
        found = sentence_transformer_max_length(path)
        tokenizer_limit = getattr(self.tokenizer, "model_max_length", None) or FALLBACK_MAX_LENGTH
        return found or min(int(tokenizer_limit), FALLBACK_MAX_LENGTH)

    def _create_triton_client(self, embedding_model_id: str, **kwargs: Any) -> TritonClient:
        return self.client_class(
            url=self.url,
            plugin_name=self.plugin_name,
            embedding_model_id=embedding_model_id,
            tokenizer=self.tokenizer,
            max_length=self.max_length,
            query_prefix=self.query_prefix,
            items_prefix=self.items_prefix,
            same_query_and_items=self.same_query_and_items,
            retry_config=self.retry_config,
            preprocessor=self.preprocessor,
            **kwargs,
        )


def _load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)
