"""The improvement worker's pure steps: feedback from a session, rounds per user, inputs
and personalised copies, the per-session fallback of the adjuster, the trigger and the
periodic timer."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import torch
from redis.exceptions import ConnectionError as RedisConnectionError

from embedding_studio.embeddings.data.clickstream.improvement_input import ImprovementInput
from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.clickstream.sessions import SearchResultItem, SessionWithEvents
from embedding_studio.models.embeddings.objects import Object, ObjectPart
from embedding_studio.models.improvement import SessionForImprovement
from embedding_studio.models.tasks import TaskKind
from embedding_studio.workers.improvement.copies import personalised_copies
from embedding_studio.workers.improvement.handler import (
    Prepared,
    Ready,
    adjust_each,
    rounds_by_user,
)
from embedding_studio.workers.improvement.inputs import (
    Feedback,
    StartingVectors,
    feedback_of,
    improvement_input,
)
from embedding_studio.workers.improvement.scheduler import PeriodicTrigger
from embedding_studio.workers.improvement.trigger import request_improvement


def session(
    results: list[str], clicks: list[str], irrelevant: bool = False, user_id: str | None = "u1"
) -> SessionWithEvents:
    return SessionWithEvents(
        session_id="s1",
        search_query="q",
        search_results=[SearchResultItem(object_id=i) for i in results],
        events=[SessionEvent(session_id="s1", object_id=i) for i in clicks],
        user_id=user_id,
        is_irrelevant=irrelevant,
        batch_id="b1",
        session_number=1,
    )


def obj(object_id: str, vectors: list[list[float]], **extra: object) -> Object:
    parts = [ObjectPart(part_id=f"{object_id}:{i}", vector=v) for i, v in enumerate(vectors)]
    return Object(object_id=object_id, parts=parts, **extra)  # type: ignore[arg-type]


def test_feedback_splits_shown_results_by_clicks_in_display_order() -> None:
    feedback = feedback_of(session(["a", "b", "c", "b"], clicks=["c", "a", "c", "elsewhere"]))

    assert feedback.clicked == ["c", "a"]
    assert feedback.non_clicked == ["b"]


def test_an_irrelevant_session_has_no_clicked_results() -> None:
    feedback = feedback_of(session(["a", "b"], clicks=["a"], irrelevant=True))

    assert feedback == Feedback(clicked=[], non_clicked=["a", "b"])


def test_rounds_hold_each_user_once_and_keep_order() -> None:
    def prepared(record_id: str, user_id: str) -> Prepared:
        record = SessionForImprovement(id=record_id, session_id=record_id)
        return Prepared(record, user_id, Feedback([], []), [0.0])

    items = [prepared("1", "u1"), prepared("2", "u2"), prepared("3", "u1"), prepared("4", "u1")]

    rounds = rounds_by_user(items)

    assert [[p.record.id for p in r] for r in rounds] == [["1", "2"], ["3"], ["4"]]


def starting() -> dict[str, StartingVectors]:
    a = obj("a", [[1.0, 0.0], [0.0, 1.0]], payload={"lang": "en"}, storage_meta={"path": "a"})
    b = obj("b", [[0.5, 0.5]])
    copy_of_b = obj("b_u1", [[0.6, 0.4]], user_id="u1", original_id="b")
    return {
        "a": StartingVectors(original=a, parts=a.parts, from_copy=False),
        "b": StartingVectors(original=b, parts=copy_of_b.parts, from_copy=True),
    }


def test_inputs_skip_vanished_results_and_copies_keep_payload_and_part_ids() -> None:
    vectors = starting()
    built = improvement_input(
        "s1", [1.0, 0.0], Feedback(clicked=["a"], non_clicked=["gone", "b"]), vectors
    )

    assert built.query.vector.shape == (1, 2)
    assert [e.id for e in built.clicked_elements] == ["a"]
    assert [e.id for e in built.non_clicked_elements] == ["b"]
    assert torch.equal(built.non_clicked_elements[0].vector, torch.tensor([[0.6, 0.4]]))

    copies = personalised_copies(built, "u1", vectors)

    assert [c.object_id for c in copies] == ["a_u1", "b_u1"]
    assert all(c.user_id == "u1" for c in copies)
    assert [c.original_id for c in copies] == ["a", "b"]
    assert copies[0].payload == {"lang": "en"}
    assert copies[0].storage_meta == {"path": "a"}
    assert [p.part_id for p in copies[0].parts] == ["a:0", "a:1"]
    assert [p.part_id for p in copies[1].parts] == ["b_u1:0"]
    assert copies[1].parts[0].vector == pytest.approx([0.6, 0.4])


def test_a_copy_with_a_changed_number_of_parts_is_refused() -> None:
    vectors = starting()
    built = improvement_input("s1", [1.0, 0.0], Feedback(clicked=["a"], non_clicked=[]), vectors)
    element = built.clicked_elements[0]
    element.vector = element.vector[:1]

    with pytest.raises(ValueError, match="returned 1 parts for 'a'; expected 2"):
        personalised_copies(built, "u1", vectors)


class FailsOnSession(VectorsAdjuster):
    """Fails any call that includes the given session; otherwise returns the inputs."""

    def __init__(self, bad_session: str) -> None:
        self.bad_session = bad_session
        self.calls: list[list[str]] = []

    def adjust_vectors(
        self, data_for_improvement: list[ImprovementInput]
    ) -> list[ImprovementInput]:
        ids = [i.session_id for i in data_for_improvement]
        self.calls.append(ids)
        if self.bad_session in ids:
            raise RuntimeError(f"cannot adjust {self.bad_session}")
        return data_for_improvement


def ready(session_id: str) -> Ready:
    vectors = starting()
    record = SessionForImprovement(session_id=session_id)
    feedback = Feedback(clicked=["a"], non_clicked=["b"])
    built = improvement_input(session_id, [1.0, 0.0], feedback, vectors)
    return Ready(Prepared(record, "u1", feedback, [1.0, 0.0]), vectors, built)


def test_one_failing_session_does_not_fail_the_others_of_its_round() -> None:
    adjuster = FailsOnSession("s2")

    results = adjust_each(adjuster, [ready("s1"), ready("s2"), ready("s3")])

    assert adjuster.calls == [["s1", "s2", "s3"], ["s1"], ["s2"], ["s3"]]
    assert isinstance(results[1], RuntimeError)
    assert [r.session_id for r in (results[0], results[2])] == ["s1", "s3"]  # type: ignore[union-attr]


def test_an_adjuster_returning_other_sessions_is_caught() -> None:
    class Reorders(VectorsAdjuster):
        def adjust_vectors(self, data: list[ImprovementInput]) -> list[ImprovementInput]:
            return list(reversed(data))

    results = adjust_each(Reorders(), [ready("s1"), ready("s2")])

    # together: wrong order; one by one: each comes back as itself
    assert [r.session_id for r in results] == ["s1", "s2"]  # type: ignore[union-attr]


def test_request_improvement_enqueues_and_survives_an_unreachable_broker() -> None:
    sent: list[tuple[TaskKind, str]] = []
    ok = SimpleNamespace(enqueue=lambda kind, reason: sent.append((kind, reason)))

    def refuse(kind: TaskKind, reason: str) -> None:
        raise RedisConnectionError("connection refused")

    assert request_improvement(ok, "session s1") is True  # type: ignore[arg-type]
    assert sent == [(TaskKind.improvement, "session s1")]
    assert request_improvement(SimpleNamespace(enqueue=refuse)) is False  # type: ignore[arg-type]


def test_periodic_trigger_warms_up_sends_at_boot_and_stops_at_shutdown() -> None:
    events: list[str] = []
    two_sent = threading.Event()

    def send() -> None:
        events.append("send")
        if events.count("send") >= 2:
            two_sent.set()

    def warm_up() -> None:
        events.append("warm")
        raise RuntimeError("no collection yet")  # logged, not fatal

    trigger = PeriodicTrigger(send=send, interval_s=0.01, warm_up=warm_up)
    trigger.after_worker_boot(None, None)
    assert two_sent.wait(timeout=10)
    trigger.before_worker_shutdown(None, None)
    count = events.count("send")

    assert events[:2] == ["warm", "send"]
    assert trigger._thread is not None and not trigger._thread.is_alive()
    assert events.count("send") == count
