"""Exact and prefix matching of typed text against an index view.

- exact: the typed text is a whole phrase (character for character, or ignoring case);
- prefix: the typed words occur in the phrase, adjacent and in order, starting at a word
  anywhere in the phrase; all but the last must be whole words, the last is the start of
  a word (or a whole word when the user typed a space after it).
"""

from __future__ import annotations

from embedding_studio.suggesting.models import Match, MatchType, PhraseEntry
from embedding_studio.suggesting.text import TypedText
from embedding_studio.suggesting.view import IndexView


def in_domain(entry: PhraseEntry, domain: str | None) -> bool:
    return domain is None or domain in entry.domains


def exact_matches(view: IndexView, typed: TypedText, domain: str | None) -> list[Match]:
    """Phrases equal to the typed text: `exact` when the case agrees too."""
    snapshot = view.snapshot
    entries = [
        snapshot.entry(index)
        for index in snapshot.exact.get(typed.folded, ())
        if not view.is_shadowed(index)
    ]
    entries += [entry for entry in view.delta_entries if entry.folded == typed.folded]
    end = len(typed.text)
    return [
        Match(entry, _exact_type(entry, typed), 0, end)
        for entry in entries
        if in_domain(entry, domain)
    ]


def _exact_type(entry: PhraseEntry, typed: TypedText) -> MatchType:
    if entry.phrase == typed.text:
        return MatchType.exact
    return MatchType.exact_case_insensitive


def prefix_matches(
    view: IndexView, typed: TypedText, domain: str | None, limit: int
) -> list[Match]:
    """The `limit` most probable prefix matches (whole-phrase matches left out: they are
    exact), from the snapshot and the delta."""
    needle = typed.needle
    typed_length = len(typed.folded)
    found: list[Match] = []
    haystack = view.snapshot.haystack(domain)
    if haystack is not None:
        columns = view.snapshot.columns
        for index, start in haystack.find(needle):
            if view.is_shadowed(index) or columns.folded[index] == typed.folded:
                continue
            entry = columns.entry(index)
            found.append(Match(entry, MatchType.prefix, start, start + typed_length))
            if len(found) >= limit:
                break
    for entry in view.delta_entries:
        if entry.folded == typed.folded or not in_domain(entry, domain):
            continue
        start = (" " + entry.folded + " ").find(needle)
        if start != -1:
            found.append(Match(entry, MatchType.prefix, start, start + typed_length))
    found.sort(key=lambda match: match.rank_key)
    return found[:limit]
