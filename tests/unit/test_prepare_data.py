"""From stored sessions to training data: converter, splitter and `prepare_data`."""

from __future__ import annotations

import random
from typing import Any

import pytest

from embedding_studio.clickstream_storage.converters.converter import ClickstreamSessionConverter
from embedding_studio.clickstream_storage.text_query_retriever import TextQueryRetriever
from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.data_storage.loaders.inline.item_meta import InlineItemMeta
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.data.clickstream.train_test_splitter import TrainTestSplitter
from embedding_studio.embeddings.data.items.managers.text import TextItemSetManager
from embedding_studio.embeddings.data.utils.fields_normalizer import DatasetFieldsNormalizer
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, SessionWithEvents
from embedding_studio.workers.fine_tuning.prepare_data import NotEnoughData, prepare_data


def make_session(
    session_id: str,
    query: Any,
    results: list[str],
    clicks: dict[str, float] | None = None,
    irrelevant: bool = False,
    meta: bool = True,
    extra_events: list[SessionEvent] | None = None,
) -> SessionWithEvents:
    events = [
        SessionEvent(session_id=session_id, object_id=object_id, meta={"importance": weight})
        for object_id, weight in (clicks or {}).items()
    ]
    return SessionWithEvents(
        session_id=session_id,
        search_query=query,
        search_results=[
            SearchResultItem(
                object_id=object_id,
                distance=0.1 * rank,
                meta={"source": "inline", "data": f"text of {object_id}"} if meta else None,
            )
            for rank, object_id in enumerate(results)
        ],
        batch_id="batch",
        session_number=1,
        events=events + (extra_events or []),
        is_irrelevant=irrelevant,
    )


# --- converter --------------------------------------------------------------------------


def test_clicked_results_are_positives_and_the_others_negatives():
    session = make_session("s", "query", ["a", "b", "c"], clicks={"b": 1.0})
    converted = ClickstreamSessionConverter(item_type=InlineItemMeta).convert(session)
    assert converted.input.events == ["b"]
    assert converted.input.not_events == ["a", "c"]
    assert [item.id for item in converted.items] == ["a", "b", "c"]
    assert isinstance(converted.items[0], InlineItemMeta)
    assert converted.items[0].data == "text of a"
    assert converted.input.ranks == pytest.approx({"a": 0.0, "b": 0.1, "c": 0.2})


def test_importance_weights_a_click_and_zero_importance_is_no_click():
    session = make_session("s", "q", ["a", "b", "c"], clicks={"a": 3.0, "b": 0.0})
    session.events.append(SessionEvent(session_id="s", object_id="a", event_type="buy"))
    converted = ClickstreamSessionConverter(item_type=InlineItemMeta).convert(session).input
    assert converted.events == ["a"]
    assert converted.importances == {"a": 3.0}  # the largest importance of its events


def test_irrelevant_sessions_have_only_negatives():
    session = make_session("s", "q", ["a", "b"], clicks={"a": 1.0}, irrelevant=True)
    converted = ClickstreamSessionConverter(item_type=InlineItemMeta).convert(session).input
    assert converted.events == [] and converted.not_events == ["a", "b"]
    assert converted.is_usable


def test_events_outside_the_results_and_other_types_are_not_clicks():
    outside = SessionEvent(session_id="s", object_id="zzz", meta={"not_in_results": True})
    session = make_session("s", "q", ["a", "b"], clicks={"a": 1.0}, extra_events=[outside])
    session.events.append(SessionEvent(session_id="s", object_id="b", event_type="view"))
    converter = ClickstreamSessionConverter(item_type=InlineItemMeta, event_types=["click"])
    assert converter.convert(session).input.events == ["a"]


def test_results_whose_meta_does_not_fit_the_item_type_are_dropped():
    session = make_session("s", "q", ["a", "b"], clicks={"a": 1.0})
    session.search_results[1].meta = None  # no inline data
    converted = ClickstreamSessionConverter(item_type=InlineItemMeta).convert(session)
    assert converted.input.results == ["a"]
    assert "b" in converted.dropped


def test_pgsql_metas_need_only_the_object_id():
    session = make_session("s", "q", ["1", "2"], clicks={"2": 1.0}, meta=False)
    items = ClickstreamSessionConverter(item_type=PgsqlFileMeta).convert(session).items
    assert [type(i) for i in items] == [PgsqlFileMeta, PgsqlFileMeta]
    assert [i.id for i in items] == ["1", "2"]


def test_converter_needs_an_item_meta_type():
    with pytest.raises(TypeError, match="ItemMeta"):
        ClickstreamSessionConverter(item_type=dict)  # type: ignore[arg-type]


# --- splitter ---------------------------------------------------------------------------


def inputs(count: int, irrelevant_every: int = 0) -> list[FineTuningInput]:
    result = []
    for index in range(count):
        irrelevant = bool(irrelevant_every) and index % irrelevant_every == 0
        result.append(
            FineTuningInput(
                session_id=f"s{index}",
                query=f"query {index % (count // 2)}",  # every query searched twice
                results=["a", "b"],
                events=[] if irrelevant else ["a"],
                is_irrelevant=irrelevant,
            )
        )
    return result


def test_sessions_of_one_query_stay_in_one_split():
    splits = TrainTestSplitter(test_size_ratio=0.25, random_state=3).split(inputs(40))
    train_queries = {s.group_key for s in splits["train"]}
    test_queries = {s.group_key for s in splits["test"]}
    assert not train_queries & test_queries
    assert len(splits["train"]) + len(splits["test"]) == 40
    assert len(test_queries) == 5  # 25 % of 20 queries


def test_both_splits_get_clicked_and_irrelevant_sessions():
    splits = TrainTestSplitter(test_size_ratio=0.3, random_state=1).split(inputs(40, 5))
    for name in ("train", "test"):
        assert any(s.has_positives for s in splits[name])
        assert any(s.is_irrelevant for s in splits[name])


def test_split_is_reproducible_with_a_seed_or_a_seeded_global_random():
    data = inputs(30)
    assert _ids(TrainTestSplitter(random_state=7).split(data)) == _ids(
        TrainTestSplitter(random_state=7).split(data)
    )
    random.seed(11)
    first = _ids(TrainTestSplitter().split(data))
    random.seed(11)
    assert _ids(TrainTestSplitter().split(data)) == first


def test_without_shuffle_the_latest_queries_are_held_out():
    splits = TrainTestSplitter(test_size_ratio=0.2, shuffle=False).split(inputs(20))
    assert {s.group_key for s in splits["test"]} == {"query 8", "query 9"}


def test_one_query_alone_is_kept_for_training():
    splits = TrainTestSplitter().split(inputs(2)[:1])
    assert len(splits["train"]) == 1 and splits["test"] == []


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1])
def test_ratio_must_be_a_fraction(ratio):
    with pytest.raises(ValueError, match="test_size_ratio"):
        TrainTestSplitter(test_size_ratio=ratio)


def _ids(splits: dict[str, list[FineTuningInput]]) -> dict[str, list[str]]:
    return {name: [s.session_id for s in sessions] for name, sessions in splits.items()}


# --- prepare_data -----------------------------------------------------------------------


def manager(augmenter: Any = None) -> TextItemSetManager:
    return TextItemSetManager(DatasetFieldsNormalizer("item", "item_id"), augmenter=augmenter)


def sessions(count: int = 10) -> list[SessionWithEvents]:
    result = []
    for index in range(count):
        results = [f"doc{index}", f"doc{index + 1}", f"doc{index + 2}"]
        result.append(make_session(f"s{index}", f"query {index}", results, {f"doc{index}": 1.0}))
    result.append(make_session("irr", "nothing fits", ["doc0", "doc5"], irrelevant=True))
    return result


def prepare(clickstream: list[SessionWithEvents], loader: DataLoader | None = None, **kwargs):
    return prepare_data(
        clickstream,
        ClickstreamSessionConverter(item_type=InlineItemMeta),
        TrainTestSplitter(test_size_ratio=0.3, random_state=0),
        TextQueryRetriever(),
        loader or InlineDataLoader(),
        kwargs.get("items_set_manager", manager()),
    )


def test_prepare_data_gives_sessions_and_item_parts_per_split():
    data = prepare(sessions())
    described = data.describe()
    assert described["train_sessions"] + described["test_sessions"] == 11
    assert described["test_sessions_with_clicks"] >= 1
    for name, split in data.clickstream.items():
        parts = data.parts(name)
        for session in split:
            assert session.query_text == session.query
            assert all(object_id in parts for object_id in session.results)
    assert data.parts("train").original("doc0") == ["text of doc0"] or "doc0" not in data.parts(
        "train"
    )


def test_only_the_train_split_is_augmented():
    data = prepare(sessions(), items_set_manager=manager(lambda text: [text.upper()]))
    train_rows = data.items["train"]
    test_rows = data.items["test"]
    assert any(train_rows["augmented"]) and not any(test_rows["augmented"])


class FailingLoader(DataLoader):
    """Loads inline data except for the ids in `broken`."""

    item_meta_cls = InlineItemMeta

    def __init__(self, broken: set[str]) -> None:
        self.broken = broken

    def load_items(self, items_data: list[ItemMeta]) -> list[DownloadedItem]:
        return [
            DownloadedItem(id=m.id, data=getattr(m, "data", ""), meta=m)
            for m in items_data
            if m.id not in self.broken
        ]


def test_results_that_fail_to_load_leave_their_sessions():
    data = prepare(sessions(), loader=FailingLoader({"doc1", "doc2"}))
    every = data.train_sessions + data.test_sessions
    assert all(object_id not in {"doc1", "doc2"} for s in every for object_id in s.results)
    assert all(s.session_id not in {"s1", "s2"} for s in every)  # their click is gone


def test_sessions_whose_query_cannot_be_read_are_left_out():
    clickstream = sessions()
    clickstream[0].search_query = {"title": "no text field"}
    data = prepare(clickstream)
    assert "s0" not in {s.session_id for s in data.train_sessions + data.test_sessions}


def test_no_session_no_click_or_nothing_loadable_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="no sessions"):
        prepare([])
    only_irrelevant = [make_session("irr", "q", ["a", "b"], irrelevant=True)]
    with pytest.raises(NotEnoughData, match="click"):
        prepare(only_irrelevant)
    everything = {f"doc{i}" for i in range(20)}
    with pytest.raises(NotEnoughData, match="click"):
        prepare(sessions(), loader=FailingLoader(everything))
