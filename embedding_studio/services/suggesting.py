"""Suggestion rules behind the API: 404s for unknown phrases, and learning from pushed
clickstream events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from embedding_studio.context.app_context import AppContext
from embedding_studio.core.errors import InvalidRequest, NotFound, StorageUnavailable
from embedding_studio.suggesting.models import (
    NewPhrase,
    PhraseOrigin,
    StoredPhrase,
    Suggestion,
)

logger = logging.getLogger(__name__)


def _missing(phrase_id: str) -> NotFound:
    return NotFound(f"suggestion phrase {phrase_id!r} does not exist")


def get_top_k(ctx: AppContext, phrase: str, domain: str | None, top_k: int) -> list[Suggestion]:
    return ctx.suggestions.get_top_k(phrase, top_k=top_k, domain=domain)


def add_phrases(ctx: AppContext, phrases: Sequence[NewPhrase]) -> list[str]:
    return ctx.suggestions.phrases.add(phrases)


def get_phrase(ctx: AppContext, phrase_id: str) -> StoredPhrase:
    stored = ctx.suggestions.phrases.get(phrase_id)
    if stored is None:
        raise _missing(phrase_id)
    return stored


def delete_phrase(ctx: AppContext, phrase_id: str) -> None:
    if not ctx.suggestions.phrases.delete(phrase_id):
        raise _missing(phrase_id)


def _modify(
    ctx: AppContext, phrase_id: str, change: Callable[[StoredPhrase], dict[str, Any]]
) -> StoredPhrase:
    stored = ctx.suggestions.phrases.modify(phrase_id, change)
    if stored is None:
        raise _missing(phrase_id)
    return stored


def add_labels(ctx: AppContext, phrase_id: str, labels: Sequence[str]) -> StoredPhrase:
    return _modify(ctx, phrase_id, lambda p: {"labels": sorted({*p.labels, *labels})})


def remove_labels(ctx: AppContext, phrase_id: str, labels: Sequence[str]) -> StoredPhrase:
    return _modify(ctx, phrase_id, lambda p: {"labels": sorted(set(p.labels) - set(labels))})


def add_domains(ctx: AppContext, phrase_id: str, domains: Sequence[str]) -> StoredPhrase:
    return _modify(ctx, phrase_id, lambda p: {"domains": sorted({*p.domains, *domains})})


def remove_domains(ctx: AppContext, phrase_id: str, domains: Sequence[str]) -> StoredPhrase:
    return _modify(ctx, phrase_id, lambda p: {"domains": sorted(set(p.domains) - set(domains))})


def set_probability(ctx: AppContext, phrase_id: str, prob: float) -> StoredPhrase:
    """Set the probability; the phrase is `manual` from then on (learning no longer
    changes its probability)."""
    return _modify(ctx, phrase_id, lambda _: {"prob": prob, "origin": PhraseOrigin.manual.value})


def remove_everywhere(ctx: AppContext, column: str, values: Sequence[str]) -> dict[str, int]:
    """Remove labels (`column="labels"`) or domains from every phrase; per value, how many
    phrases had it."""
    store = ctx.suggestions.phrases
    return {value: store.remove_everywhere(column, value) for value in dict.fromkeys(values)}


def list_phrases(
    ctx: AppContext, offset: int, limit: int, label: str | None, domain: str | None
) -> tuple[list[StoredPhrase], int]:
    return ctx.suggestions.phrases.page(offset, limit, label=label, domain=domain)


def learn_from_events(ctx: AppContext, acted_on: Mapping[str, frozenset[str]]) -> int:
    """After events were stored: count the clicks of their sessions for the sessions'
    queries (SUGGESTING_LEARN_FROM_CLICKSTREAM). `acted_on`: per session, the shown
    objects the pushed events name (`PushResult.acted_on`). Returns the sessions learned
    from.

    Called through `services.clickstream.learn_from_push` once a push is answered.
    Learning never fails the push: a storage error is logged, and the next push of the
    session's events counts its clicks again (a session's count is replaced, not added).
    """
    if not ctx.settings.SUGGESTING_LEARN_FROM_CLICKSTREAM:
        return 0
    learning = ctx.suggestions.learning
    learned = 0
    for session_id, objects in acted_on.items():
        if not learning.needs_learning(session_id, objects):
            continue
        try:
            found = ctx.clickstream_dao.get_session_clicks(session_id)
            if found is not None and learning.learn_clicks(found.session, found.clicked):
                learned += 1
        except (StorageUnavailable, InvalidRequest) as exc:
            logger.warning("suggestions: clicks of session %s not learned: %s", session_id, exc)
    return learned
