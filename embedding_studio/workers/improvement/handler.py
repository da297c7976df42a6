"""The improvement worker's handler: sessions marked for improvement become the users'
personalised copies of the objects they were shown.

`improve_pending_sessions` claims pending records in batches (an atomic claim: two
workers never take the same record), and for each batch:

1. reads each session, splits its results into clicked and non-clicked, and embeds its
   query with the blue collection's model;
2. in rounds where each user appears at most once (so a user's later session starts
   from the copies an earlier one wrote), loads the starting vectors (the user's
   copies where they exist, else the originals), runs the plugin's `VectorsAdjuster`
   on the round, and upserts the adjusted vectors as personalised copies
   (`{original_id}_{user_id}`); originals are never written;
3. finishes every record: `done` (with a detail when there was nothing to adjust),
   `refused` (the session has no user), or `failed` with the reason.

A failure in one session fails that session only. Running the handler twice is safe:
claimed records are not claimed again, and copies are upserted by id. Runs are
serialised across workers by a lock in the document store (`exclusive`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import TaskRefused
from embedding_studio.embeddings.data.clickstream.improvement_input import ImprovementInput
from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
from embedding_studio.models.improvement import SessionForImprovement
from embedding_studio.models.tasks import TaskStatus
from embedding_studio.services.search import embed_query
from embedding_studio.workers.improvement.copies import personalised_copies
from embedding_studio.workers.improvement.exclusive import ExclusiveRun
from embedding_studio.workers.improvement.inputs import (
    Feedback,
    StartingVectors,
    feedback_of,
    improvement_input,
    starting_vectors,
)
from embedding_studio.workers.improvement.recovery import requeue_abandoned

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)
LOCK_NAME = "improvement-run"
LOCK_TTL_S = 300.0


@dataclass(frozen=True)
class Target:
    """Where this batch's vectors live and how they are adjusted."""

    collection: Any  # the blue vectordb Collection
    plugin_name: str
    model_id: str
    adjuster: VectorsAdjuster


@dataclass(frozen=True)
class Prepared:
    """A claimed session that has something to adjust."""

    record: SessionForImprovement
    user_id: str
    feedback: Feedback
    query_vector: list[float]


@dataclass(frozen=True)
class Ready:
    """A prepared session with its starting vectors, ready for the adjuster."""

    prepared: Prepared
    vectors: dict[str, StartingVectors]
    improvement_input: ImprovementInput


class NothingToAdjust(Exception):
    """The session is valid but gives no signal; its record ends `done` with the reason."""


def improve_pending_sessions(
    ctx: AppContext, batch_size: int | None = None, wait_s: float = LOCK_TTL_S
) -> Counter[str]:
    """Queue again the sessions of records abandoned in `processing` (see `recovery`),
    then process pending sessions batch by batch until none is left. Runs one at a
    time (see `exclusive`): this one waits up to `wait_s` for a running one to end.

    :return: how many records ended in each status
    """
    size = batch_size or ctx.settings.IMPROVEMENT_BATCH_SIZE
    run = ExclusiveRun(ctx.locks, LOCK_NAME, LOCK_TTL_S)
    outcome: Counter[str] = Counter()
    if not run.acquire(wait_s):
        logger.info("another improvement run is still going; it takes the pending sessions")
        return outcome
    try:
        requeue_abandoned(ctx, ctx.settings.IMPROVEMENT_STALE_AFTER_S)
        while run.refresh() and (records := ctx.sessions_for_improvement.claim_pending(size)):
            outcome.update(improve_sessions(ctx, records))
    finally:
        run.release()
    return outcome


def improve_sessions(ctx: AppContext, records: list[SessionForImprovement]) -> Counter[str]:
    """Process claimed (processing) records; every record ends in a final status."""
    outcome: Counter[str] = Counter()
    try:
        target = blue_target(ctx)
    except Exception as exc:  # every record of the batch fails with the reason
        logger.exception("improvement batch of %d sessions: no target", len(records))
        for record in records:
            outcome[_finish(ctx, record, TaskStatus.failed, _reason(exc))] += 1
        return outcome
    prepared: list[Prepared] = []
    for record in records:
        try:
            prepared.append(prepare(ctx, target, record))
        except Exception as exc:  # one session's failure does not stop the batch
            outcome[_finish_on_error(ctx, record, exc)] += 1
    for round_ in rounds_by_user(prepared):
        outcome.update(_improve_round(ctx, target, round_))
    logger.info("improvement batch of %d sessions: %s", len(records), dict(outcome))
    return outcome


def blue_target(ctx: AppContext) -> Target:
    collection = ctx.vectordb.get_blue_collection()
    info = collection.info
    plugin = ctx.plugin_manager.require(info.plugin_name)
    return Target(
        collection=collection,
        plugin_name=info.plugin_name,
        model_id=info.embedding_model_id,
        adjuster=plugin.get_vectors_adjuster(),
    )


def prepare(ctx: AppContext, target: Target, record: SessionForImprovement) -> Prepared:
    """Read the session and embed its query.

    :raises LookupError: the session does not exist
    :raises TaskRefused: the session has no user to personalise for
    :raises NothingToAdjust: no results, or no clicks in a session not marked irrelevant
    """
    session = ctx.clickstream_dao.get_session(record.session_id)
    if session is None:
        raise LookupError(f"session {record.session_id!r} does not exist")
    if session.user_id is None:
        raise TaskRefused(f"session {record.session_id!r} has no user_id to personalise for")
    feedback = feedback_of(session)
    if not feedback.object_ids:
        raise NothingToAdjust("the session has no search results")
    if not feedback.clicked and not session.is_irrelevant:
        raise NothingToAdjust("no clicks on the results and the session is not irrelevant")
    if not isinstance(session.search_query, str | dict):
        raise TypeError(
            f"session query must be a string or an object; got {type(session.search_query)}"
        )
    query_vector = embed_query(ctx, session.search_query, target.plugin_name, target.model_id)
    return Prepared(record, session.user_id, feedback, query_vector)


def rounds_by_user(prepared: list[Prepared]) -> list[list[Prepared]]:
    """Split into rounds, keeping order, so that each user appears once per round."""
    rounds: list[list[Prepared]] = []
    users: list[set[str]] = []
    for item in prepared:
        index = next((i for i, seen in enumerate(users) if item.user_id not in seen), None)
        if index is None:
            rounds.append([])
            users.append(set())
            index = len(rounds) - 1
        rounds[index].append(item)
        users[index].add(item.user_id)
    return rounds


def _improve_round(ctx: AppContext, target: Target, round_: list[Prepared]) -> Counter[str]:
    outcome: Counter[str] = Counter()
    ready: list[Ready] = []
    for item in round_:
        try:
            ready.append(_load(target, item))
        except Exception as exc:
            outcome[_finish_on_error(ctx, item.record, exc)] += 1
    for loaded, adjusted in zip(ready, adjust_each(target.adjuster, ready), strict=True):
        record = loaded.prepared.record
        try:
            if isinstance(adjusted, Exception):
                raise adjusted
            copies = personalised_copies(adjusted, loaded.prepared.user_id, loaded.vectors)
            target.collection.upsert(copies)
            outcome[_finish(ctx, record, TaskStatus.done)] += 1
        except Exception as exc:
            outcome[_finish_on_error(ctx, record, exc)] += 1
    return outcome


def _load(target: Target, item: Prepared) -> Ready:
    vectors = starting_vectors(target.collection, item.user_id, item.feedback.object_ids)
    built = improvement_input(item.record.session_id, item.query_vector, item.feedback, vectors)
    if not built.clicked_elements and not built.non_clicked_elements:
        raise NothingToAdjust("none of the session's results exist any more")
    return Ready(item, vectors, built)


def adjust_each(
    adjuster: VectorsAdjuster, ready: list[Ready]
) -> list[ImprovementInput | Exception]:
    """Adjust the round in one call; if that fails, adjust each session alone so that
    only the failing sessions fail. Returns, per session, its adjusted input or error."""
    if not ready:
        return []
    inputs = [item.improvement_input for item in ready]
    try:
        return list(_checked(inputs, adjuster.adjust_vectors(inputs)))
    except Exception:
        if len(inputs) == 1:
            raise
        logger.warning("adjusting %d sessions together failed; one by one", len(inputs))
    results: list[ImprovementInput | Exception] = []
    for single in inputs:
        try:
            results.extend(_checked([single], adjuster.adjust_vectors([single])))
        except Exception as exc:
            results.append(exc)
    return results


def _checked(
    inputs: list[ImprovementInput], outputs: list[ImprovementInput]
) -> list[ImprovementInput]:
    got = [o.session_id for o in outputs]
    expected = [i.session_id for i in inputs]
    if got != expected:
        raise ValueError(f"the adjuster returned sessions {got}; expected {expected}")
    return outputs


def _finish_on_error(ctx: AppContext, record: SessionForImprovement, exc: Exception) -> str:
    if isinstance(exc, NothingToAdjust):
        return _finish(ctx, record, TaskStatus.done, f"nothing to adjust: {exc}")
    if isinstance(exc, TaskRefused):
        return _finish(ctx, record, TaskStatus.refused, str(exc))
    logger.error("improvement of session %s failed", record.session_id, exc_info=exc)
    return _finish(ctx, record, TaskStatus.failed, _reason(exc))


def _finish(
    ctx: AppContext, record: SessionForImprovement, status: TaskStatus, detail: str | None = None
) -> str:
    if ctx.sessions_for_improvement.finish(record.id, status, detail) is None:
        logger.warning(
            "record %s (session %s) was no longer processing", record.id, record.session_id
        )
    return status.value


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
