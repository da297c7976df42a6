"""Triton clients for BERT-style SentenceTransformers (all-MiniLM-L6-v2): no prefixes,
one shared tower."""

from __future__ import annotations

from embedding_studio.embeddings.inference.client import QueryPreprocessor
from embedding_studio.embeddings.inference.retry import RetryConfig
from embedding_studio.embeddings.inference.triton.text_to_text.tokenized_client import (
    TokenizedTextTritonClient,
    TokenizedTextTritonClientFactory,
)


class TextToTextBERTTritonClient(TokenizedTextTritonClient):
    """A Triton client for a deployed BERT-style model (no prefixes)."""


class TextToTextBERTTritonClientFactory(TokenizedTextTritonClientFactory):
    """Clients for a plugin whose model is a `TextToTextSBERTModel`.

    :param url: Triton's gRPC address, "host:port"
    :param plugin_name: the plugin's `meta.name`
    :param preprocessor: converts dict queries to text (e.g. the plugin's preprocessor)
    :param model_name: the model's hub name, for its tokenizer
    :param retry_config: retries of Triton calls
    """

    client_class = TextToTextBERTTritonClient

    def __init__(
        self,
        url: str,
        plugin_name: str,
        preprocessor: QueryPreprocessor | None = None,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
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
