"""Sentence-BERT style models (e.g. `sentence-transformers/all-MiniLM-L6-v2`): no prefixes."""

from __future__ import annotations

from typing import ClassVar

from embedding_studio.embeddings.models.text_to_text.sentence_transformer_model import (
    SentenceTransformerTextModel,
)


class TextToTextSBERTModel(SentenceTransformerTextModel):
    """A SentenceTransformer embedding queries and items alike, without prefixes.

    :param model: the loaded SentenceTransformer
    :param normalize: L2-normalize vectors (default True)
    """

    query_prefix: ClassVar[str] = ""
    items_prefix: ClassVar[str] = ""
