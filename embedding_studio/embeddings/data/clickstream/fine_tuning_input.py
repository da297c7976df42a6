"""One clickstream session as fine-tuning sees it: the query, the results shown, which
of them the user chose and how much each choice weighs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FineTuningInput:
    """A session reduced to what training learns from.

    Positives are `events` (clicked results, first-action order); negatives are
    `not_events` (results shown and not clicked). A session marked irrelevant has no
    positive: every result it showed is a negative.

    :param session_id: the clickstream session
    :param query: the raw query (`Session.search_query`); `query_text` is what the
        plugin's query retriever made of it, set by `prepare_data`
    :param results: ids of the results shown, in display order, without repeats
    :param events: the clicked results (a subset of `results`)
    :param importances: clicked result -> its weight (the largest `importance` among
        its events), > 0
    :param ranks: result -> the distance the search returned for it, when recorded
    :param is_irrelevant: the user marked the whole session irrelevant
    :param embedding_model_id: the model the search ran with, when recorded
    """

    session_id: str
    query: Any
    results: list[str]
    events: list[str] = field(default_factory=list)
    importances: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, float] = field(default_factory=dict)
    is_irrelevant: bool = False
    embedding_model_id: str | None = None
    query_text: Any = None

    def __post_init__(self) -> None:
        shown = set(self.results)
        stray = [object_id for object_id in self.events if object_id not in shown]
        if stray:
            raise ValueError(f"session {self.session_id}: clicked {stray} were not shown")
        if self.is_irrelevant:
            self.events = []
        self.importances = {i: self.importances.get(i, 1.0) for i in self.events}

    @property
    def not_events(self) -> list[str]:
        """Results shown and not clicked, in display order."""
        chosen = set(self.events)
        return [object_id for object_id in self.results if object_id not in chosen]

    @property
    def has_positives(self) -> bool:
        return bool(self.events)

    @property
    def is_usable(self) -> bool:
        """Whether training can learn from it: clicks, or an irrelevant list of results."""
        return self.has_positives or (self.is_irrelevant and bool(self.results))

    def remove_results(self, object_ids: Iterable[str]) -> None:
        """Forget these results (e.g. items that could not be loaded)."""
        removed = set(object_ids)
        self.results = [i for i in self.results if i not in removed]
        self.events = [i for i in self.events if i not in removed]
        self.importances = {i: w for i, w in self.importances.items() if i not in removed}
        self.ranks = {i: r for i, r in self.ranks.items() if i not in removed}

    @property
    def group_key(self) -> str:
        """Sessions with the same query share this key (they go to the same split)."""
        value = self.query_text if self.query_text is not None else self.query
        return value if isinstance(value, str) else repr(value)
