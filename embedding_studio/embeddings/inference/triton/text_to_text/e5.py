"""Triton clients for E5 models ("query: " / "passage: " prefixes, one shared tower)."""

from __future__ import annotations

from typing import Any

from embedding_studio.embeddings.inference.client import QueryPreprocessor
from embedding_studio.embeddings.inference.retry import RetryConfig
from embedding_studio.embeddings.inference.triton.text_to_text.tokenized_client import (
    TokenizedTextTritonClient,
    TokenizedTextTritonClientFactory,
)
from embedding_studio.embeddings.models.text_to_text.e5 import E5_PASSAGE_PREFIX, E5_QUERY_PREFIX


class TextToTextE5TritonClient(TokenizedTextTritonClient):
    """A Triton client for a deployed E5 model; prefixes default to E5's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("query_prefix", E5_QUERY_PREFIX)
        kwargs.setdefault("items_prefix", E5_PASSAGE_PREFIX)
        super().__init__(*args, **kwargs)


class TextToTextE5TritonClientFactory(TokenizedTextTritonClientFactory):
    """Clients for a plugin whose model is a `TextToTextE5Model`.

    :param url: Triton's gRPC address, "host:port"
    :param plugin_name: the plugin's `meta.name`
    :param preprocessor: converts dict queries to text (e.g. the plugin's preprocessor)
    :param model_name: the E5 model's hub name, for its tokenizer
    :param retry_config: retries of Triton calls
    """

    query_prefix = E5_QUERY_PREFIX
    items_prefix = E5_PASSAGE_PREFIX
    client_class = TextToTextE5TritonClient

    def __init__(
        self,
        url: str,
        plugin_name: str,
        preprocessor: QueryPreprocessor | None = None,
        model_name: str = "intfloat/multilingual-e5-large",
        retry_config: RetryConfig | None = None,
        max_length: int | None = None,
    ) -> None:
        super().__init__(
            url=url,
            plugin_name=plugin_name,
            preprocessor=preprocessor,
            model_name=model_name,
            retry_config=retry_config,
            max_length=max_length,
            same_query_and_items=True,
        )
