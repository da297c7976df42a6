"""Query retrievers read the query out of a clickstream session (seed 000's contract)."""

from __future__ import annotations

import pytest

from embedding_studio.clickstream_storage.query_retriever import QueryRetriever
from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, SessionWithEvents


def create_test_session(query: object = "red running shoes") -> SessionWithEvents:
    return SessionWithEvents(
        session_id="s1",
        search_query=query,
        search_results=[SearchResultItem(object_id="a"), SearchResultItem(object_id="b")],
        batch_id="b1",
        session_number=1,
        events=[SessionEvent(session_id="s1", object_id="b")],
    )


def test_text_retriever_reads_strings_and_text_objects():
    retriever = TextQueryRetriever()
    assert retriever.retrieve_query(create_test_session()) == "red running shoes"
    assert retriever.retrieve_query(create_test_session({"text": "hats"})) == "hats"
    assert retriever("plain") == "plain"
    assert retriever.get_id({"text": "hats"}) == "hats"
    with pytest.raises(ValueError, match="text query"):
        retriever.retrieve_query(create_test_session({"title": "no text"}))


def test_a_custom_retriever_needs_only_retrieve_query():
    class CustomQueryRetriever(QueryRetriever):
        def retrieve_query(self, session: SessionWithEvents) -> str:
            return str(session.search_query).upper()

    retriever = CustomQueryRetriever()
    assert retriever.retrieve_query(create_test_session()) == "RED RUNNING SHOES"
    assert retriever.get_id({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_session_helpers_for_converters():
    session = create_test_session()
    assert session.clicked_object_ids == ["b"]
    assert session.events[0].event_id  # derived when not given
    assert session.events[0].importance == 1.0
    assert session.duration_seconds >= 0.0
