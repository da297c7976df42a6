"""Learning phrases from the clickstream: the query of a session that got clicks joins
the pool, with a probability that grows with the clicks its query has received.

Each session's contribution (the number of distinct results clicked) is stored by session
id and replaced, never added, when the session is seen again, so a retried or repeated
event push counts once. A phrase's clicks are the sum over its sessions; a *learned*
phrase's probability is `clicks / (clicks + half_clicks)` (0.5 at `half_clicks` clicks,
approaching 1). A phrase added through the API (or whose probability an operator set)
keeps its probability and only counts clicks. A deleted phrase is not brought back.
Sessions of different case ("Deep learning", "deep learning") count for one phrase.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert

from embedding_studio.data_access.clickstream_results_cache import SessionResultsCache
from embedding_studio.models.clickstream.sessions import Session
from embedding_studio.suggesting.models import PhraseOrigin
from embedding_studio.suggesting.store import AnyRow, PhraseStore, stamp
from embedding_studio.suggesting.tables import learned_sessions, phrases
from embedding_studio.suggesting.text import MAX_PHRASE_CHARS, fold, normalize_phrase, phrase_id_of

logger = logging.getLogger(__name__)


def query_text(search_query: Any) -> str | None:
    """The normalised text of a session's query (a string or `{"text": str}`), or None
    when it has none or is longer than a phrase may be."""
    text = search_query.get("text") if isinstance(search_query, dict) else search_query
    if not isinstance(text, str):
        return None
    phrase = normalize_phrase(text)
    return phrase if 0 < len(phrase) <= MAX_PHRASE_CHARS else None


def learned_prob(clicks: int, half_clicks: float) -> float:
    return clicks / (clicks + half_clicks) if clicks > 0 else 0.0


class ClickLearning:
    """Adds the queries of sessions with clicks to the pool.

    :param half_clicks: clicks at which a learned phrase's probability reaches 0.5
    """

    def __init__(self, store: PhraseStore, half_clicks: float) -> None:
        self._store = store
        self._half_clicks = half_clicks
        # Per session, the clicked objects this process has recorded a count for. A push
        # whose objects are all among them cannot change the count (it is the number of
        # distinct clicked objects), so it skips reading the session back: on a busy
        # session that read grows with every event. Another process's pushes are learned
        # by that process, each recording the count of everything stored at its read.
        self._counted = SessionResultsCache()

    def needs_learning(self, session_id: str, acted_on: frozenset[str]) -> bool:
        """Whether events on `acted_on` (shown objects) may change the session's count."""
        if not acted_on:
            return False
        counted = self._counted.get(session_id)
        return counted is None or not acted_on <= counted

    def forget(self, session_id: str) -> None:
        """The session changed in a way its clicks do not show (marked irrelevant)."""
        self._counted.discard(session_id)

    def learn_clicks(self, session: Session, clicked: frozenset[str]) -> str | None:
        """Record the session's clicks for its query; the id of the phrase credited, or
        None (no text query, no clicks, or the phrase was deleted). `clicked`: the shown
        objects its events name (`ClickstreamDao.get_session_clicks`)."""
        phrase = query_text(session.search_query)
        if phrase is None:
            return None
        clicks = 0 if session.is_irrelevant else len(clicked)
        phrase_id = self.record(session.session_id, phrase, clicks)
        if not session.is_irrelevant:
            self._counted.put(session.session_id, clicked)
        return phrase_id

    def record(self, session_id: str, phrase: str, clicks: int) -> str | None:
        """Set the session's click count for `phrase` (normalised) and update the phrase.

        A count already recorded is read first without the write lock: pushes that add
        no click (views, repeated objects) cost one indexed read."""
        find = select(learned_sessions).where(learned_sessions.c.session_id == session_id)
        with self._store.reading("reading a learned session") as connection:
            recorded = connection.execute(find).first()
        if _settled(recorded, clicks):
            return None if recorded is None else recorded.phrase_id
        with self._store.writing("learning a phrase from clicks") as connection:
            previous = connection.execute(find).first()
            if previous is not None and _stale(previous, clicks):
                return previous.phrase_id
            phrase_id, row = _target(connection, phrase)
            if previous is not None and (previous.phrase_id, previous.clicks) == (
                phrase_id,
                clicks,
            ):
                return phrase_id if row is None or not row.is_deleted else None
            statement = insert(learned_sessions).values(
                session_id=session_id, phrase_id=phrase_id, clicks=clicks
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[learned_sessions.c.session_id],
                    set_={"phrase_id": phrase_id, "clicks": clicks, "updated_at": func.now()},
                )
            )
            if previous is not None and previous.phrase_id != phrase_id:
                self._recount(connection, previous.phrase_id)
            if row is not None and row.is_deleted:
                return None
            total = _clicks_of(connection, phrase_id)
            if row is None:
                connection.execute(
                    insert(phrases).values(
                        phrase_id=phrase_id,
                        phrase=phrase,
                        folded=fold(phrase),
                        prob=learned_prob(total, self._half_clicks),
                        labels=[],
                        domains=[],
                        origin=PhraseOrigin.learned.value,
                        clicks=total,
                        is_deleted=False,
                    )
                )
            else:
                self._update(connection, row, total)
            logger.debug("session %s: %d clicks for phrase %s", session_id, clicks, phrase_id)
            return phrase_id

    def _recount(self, connection: Connection, phrase_id: str) -> None:
        """Update a phrase that a session no longer counts for."""
        row = connection.execute(
            select(phrases.c.phrase_id, phrases.c.origin, phrases.c.is_deleted).where(
                phrases.c.phrase_id == phrase_id
            )
        ).first()
        if row is not None and not row.is_deleted:
            self._update(connection, row, _clicks_of(connection, phrase_id))

    def _update(self, connection: Connection, row: AnyRow, total: int) -> None:
        where = phrases.c.phrase_id == row.phrase_id
        if row.origin == PhraseOrigin.learned.value:
            prob = learned_prob(total, self._half_clicks)
            values = {"clicks": total, "prob": prob, **stamp()}
        else:  # an operator's probability stays; the index needs no new revision
            values = {"clicks": total, "updated_at": func.now()}
        connection.execute(update(phrases).where(where).values(values))


def _stale(recorded: AnyRow, clicks: int) -> bool:
    """A session's clicks only grow (its events are never deleted; irrelevance counts 0):
    a smaller non-zero count comes from a read that a later push's learning overtook."""
    return 0 < clicks < recorded.clicks


def _settled(recorded: AnyRow | None, clicks: int) -> bool:
    """Nothing to write: the count is recorded already, or it is stale."""
    if recorded is None:
        return clicks == 0
    return recorded.clicks == clicks or _stale(recorded, clicks)


def _target(connection: Connection, phrase: str) -> tuple[str, AnyRow | None]:
    """The phrase that the query's clicks go to: an existing phrase of the same folded
    text (live before deleted, then the same text, then by id), else a new one."""
    rows = connection.execute(
        select(phrases.c.phrase_id, phrases.c.phrase, phrases.c.origin, phrases.c.is_deleted)
        .where(phrases.c.folded == fold(phrase))
        .order_by(phrases.c.is_deleted, phrases.c.phrase != phrase, phrases.c.phrase_id)
        .limit(1)
    ).first()
    if rows is None:
        return phrase_id_of(phrase), None
    return rows.phrase_id, rows


def _clicks_of(connection: Connection, phrase_id: str) -> int:
    total = connection.execute(
        select(func.coalesce(func.sum(learned_sessions.c.clicks), 0)).where(
            learned_sessions.c.phrase_id == phrase_id
        )
    ).scalar_one()
    return int(total)
