"""E5 text embedding models (`intfloat/e5-*`, `intfloat/multilingual-e5-*`).

E5 was trained with "query: " before queries and "passage: " before documents; the
wrapper adds them, so callers pass raw texts.
"""

from __future__ import annotations

from typing import ClassVar

from embedding_studio.embeddings.models.text_to_text.sentence_transformer_model import (
    SentenceTransformerTextModel,
)

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


class TextToTextE5Model(SentenceTransformerTextModel):
    """An E5 SentenceTransformer: one tower for queries and items, normalized vectors.

    `forward_query(["what is x"])` embeds "query: what is x";
    `forward_items(["x is ..."])` embeds "passage: x is ...".

    :param model: the loaded SentenceTransformer (e.g. `SentenceTransformer(path)`)
    :param normalize: L2-normalize vectors (default True, as E5 expects for cosine)
    """

    query_prefix: ClassVar[str] = E5_QUERY_PREFIX
    items_prefix: ClassVar[str] = E5_PASSAGE_PREFIX
