"""How a plugin reads the query out of a clickstream session."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from embedding_studio.models.clickstream.sessions import SessionWithEvents


class QueryRetriever(ABC):
    """Strategy that extracts a session's search query in the form the plugin's
    inference client embeds (`forward_query`).

    Subclasses implement `retrieve_query`; `convert_query` turns a raw query as sent to
    the search API (a string, or the plugin's query object as a dict) into that form and
    defaults to returning it unchanged.
    """

    @abstractmethod
    def retrieve_query(self, session: SessionWithEvents) -> Any:
        """The query of `session`, ready to embed.

        :raises ValueError: the session's query has a form this retriever cannot read
        """

    def convert_query(self, query: Any) -> Any:
        """A raw query (as `Session.search_query` holds it), ready to embed."""
        return query

    def get_id(self, query: Any) -> str:
        """A stable identifier of a raw query (equal queries, equal ids)."""
        converted = self.convert_query(query)
        if isinstance(converted, str):
            return converted
        return json.dumps(converted, sort_keys=True, ensure_ascii=False)

    def __call__(self, query: Any) -> Any:
        return self.convert_query(query)
