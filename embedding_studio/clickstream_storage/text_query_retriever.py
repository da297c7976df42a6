"""The query retriever of text plugins: the query is a plain string."""

from __future__ import annotations

from typing import Any

from embedding_studio.clickstream_storage.query_retriever import QueryRetriever
from embedding_studio.models.clickstream.sessions import SessionWithEvents


class TextQueryRetriever(QueryRetriever):
    """Reads a text query: a string, or an object with a string `text` field
    (`{"text": "..."}`, the reference's `TextQueryItem`)."""

    def retrieve_query(self, session: SessionWithEvents) -> str:
        return self.convert_query(session.search_query)

    def convert_query(self, query: Any) -> str:
        text = query.get("text") if isinstance(query, dict) else query
        if not isinstance(text, str):
            raise ValueError(
                f"a text query is a string or {{'text': str}}, got {type(query).__name__}"
            )
        return text
