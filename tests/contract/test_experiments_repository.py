"""Online experiments and their served searches on both document stores."""

from __future__ import annotations

import pytest

from embedding_studio.core.errors import Conflict, NotFound
from embedding_studio.data_access.clickstream import ClickstreamDao
from embedding_studio.data_access.documents import DocumentStore
from embedding_studio.data_access.experiments import ExperimentRepository
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, Session
from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.models import (
    Experiment,
    ExperimentStatus,
    ServedResult,
    ServedSearch,
)


def experiment(experiment_id: str) -> Experiment:
    return Experiment(
        experiment_id=experiment_id,
        mode="interleaving",
        variant_a="model-a",
        variant_b="model-b",
        created_at=utc_now(),
    )


def test_one_experiment_runs_at_a_time_and_a_stopped_one_never_runs_again(
    store: DocumentStore,
) -> None:
    repository = ExperimentRepository(store)
    repository.create(experiment("first"))
    repository.create(experiment("second"))
    with pytest.raises(Conflict, match="'first' exists"):
        repository.create(experiment("first"))
    assert repository.running() is None
    started = repository.start("first")
    assert started.status is ExperimentStatus.running and started.started_at is not None
    with pytest.raises(Conflict, match="'first' is running"):
        repository.start("second")
    with pytest.raises(Conflict, match="is running; only a created"):
        repository.start("first")
    assert repository.running() == started
    stopped = repository.stop("first")
    assert stopped.status is ExperimentStatus.stopped and repository.stop("first") == stopped
    assert repository.running() is None
    assert repository.start("second").status is ExperimentStatus.running
    with pytest.raises(Conflict, match="is stopped"):
        repository.start("first")
    with pytest.raises(NotFound, match="'ghost'"):
        repository.start("ghost")
    with pytest.raises(NotFound, match="'ghost'"):
        repository.stop("ghost")
    assert repository.stop("second").status is ExperimentStatus.stopped  # two stopped
    assert [e.experiment_id for e in repository.list()] == ["first", "second"]


def page(session_id: str, offset: int, ids: list[str]) -> ServedSearch:
    results = tuple(ServedResult(o, offset + i, "ab"[i % 2]) for i, o in enumerate(ids))  # type: ignore[arg-type]
    return ServedSearch("first", session_id, "user-1", "interleaved", results)


def test_later_pages_of_a_session_add_their_results_once(store: DocumentStore) -> None:
    repository = ExperimentRepository(store)
    repository.record(page("s1", 0, ["x0", "x1"]))
    repository.record(page("s1", 2, ["x2", "x3"]))
    repository.record(page("s1", 2, ["x2", "x3"]))  # the same page again
    repository.record(page("s2", 0, ["y0"]))
    served = {s.session_id: s for s in repository.served("first")}
    assert [(r.object_id, r.position, r.team) for r in served["s1"].results] == [
        ("x0", 0, "a"),
        ("x1", 1, "b"),
        ("x2", 2, "a"),
        ("x3", 3, "b"),
    ]
    assert list(served) == ["s1", "s2"] and list(repository.served("other")) == []


def test_clicks_are_the_objects_named_by_events_of_the_type(store: DocumentStore) -> None:
    dao = ClickstreamDao(store)
    for session_id in ("s1", "s2"):
        results = [SearchResultItem(object_id=o) for o in ("x0", "x1", "x2")]
        dao.register_session(
            Session(session_id=session_id, search_query="q", search_results=results)
        )
    dao.push_events(
        [
            SessionEvent(event_id="e1", session_id="s1", object_id="x1"),
            SessionEvent(event_id="e2", session_id="s1", object_id="x1"),
            SessionEvent(event_id="e3", session_id="s1", object_id="x2", event_type="view"),
            SessionEvent(event_id="e4", session_id="s2", object_id="x0"),
        ]
    )
    repository = ExperimentRepository(store)
    assert repository.clicked(["s1", "s2", "s3"], "click") == {"s1": {"x1"}, "s2": {"x0"}}
    assert repository.clicked(["s1"], "view") == {"s1": {"x2"}}
