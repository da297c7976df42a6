"""The seeds' `ClickstreamSessionConverter`: a stored session to a `FineTuningInput`."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from pydantic import ValidationError

from embedding_studio.clickstream_storage.converters.input_with_items import (
    FineTuningInputWithItems,
)
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.models.clickstream.sessions import SessionWithEvents

logger = logging.getLogger(__name__)


class ClickstreamSessionConverter:
    """Turns a `SessionWithEvents` into a `FineTuningInput` and the item metadata the
    plugin's data loader needs for its results.

    - Each shown result becomes an `item_type` built from the meta stored with the
      result (the storage meta the search returned, e.g. `{"object_id": ...}` for
      PostgreSQL rows, `{"data": ...}` for inline items) and its object id. A result
      whose meta does not fit `item_type` is left out of the session (see `dropped`).
    - A result is clicked when it has an event of one of `event_types` (any type when
      None) with `importance` > 0; its weight is the largest such importance. Events on
      objects the session did not show are ignored.
    - A session marked irrelevant has no clicks: all its results are negatives.

    Example (seed)::

        ClickstreamSessionConverter(item_type=PgsqlFileMeta)

    :param item_type: the `ItemMeta` subclass of the plugin's data loader
    :param event_types: event types that count as a click (None: every type)
    """

    def __init__(
        self, item_type: type[ItemMeta] = ItemMeta, event_types: Iterable[str] | None = None
    ) -> None:
        if not (isinstance(item_type, type) and issubclass(item_type, ItemMeta)):
            raise TypeError(f"item_type must be an ItemMeta subclass, got {item_type!r}")
        self.item_type = item_type
        self.event_types = frozenset(event_types) if event_types is not None else None

    def convert(self, session: SessionWithEvents) -> FineTuningInputWithItems:
        items: dict[str, ItemMeta] = {}
        dropped: dict[str, str] = {}
        for result in session.search_results:
            if result.object_id in dropped or result.object_id in items:
                continue
            try:
                items[result.object_id] = self.item_type.model_validate(
                    {**(result.meta or {}), "object_id": result.object_id}
                )
            except ValidationError as exc:
                dropped[result.object_id] = _first_error(exc)
        if dropped:
            logger.debug("session %s: results left out: %s", session.session_id, dropped)
        shown = list(items)
        importances = self._importances(session, items.keys())
        fine_tuning_input = FineTuningInput(
            session_id=session.session_id,
            query=session.search_query,
            results=shown,
            events=[i for i in shown if i in importances],
            importances=importances,
            ranks={
                r.object_id: float(r.distance)
                for r in session.search_results
                if r.distance is not None and r.object_id in items
            },
            is_irrelevant=session.is_irrelevant,
            embedding_model_id=(session.search_meta or {}).get("embedding_model_id"),
        )
        return FineTuningInputWithItems(
            input=fine_tuning_input, items=list(items.values()), dropped=dropped
        )

    def _importances(self, session: SessionWithEvents, shown: Collection[str]) -> dict[str, float]:
        if session.is_irrelevant:
            return {}
        importances: dict[str, float] = {}
        for event in session.events:
            if event.object_id not in shown or not event.is_in_results:
                continue
            if self.event_types is not None and event.event_type not in self.event_types:
                continue
            if event.importance > 0:
                known = importances.get(event.object_id, 0.0)
                importances[event.object_id] = max(known, event.importance)
        return importances


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "meta"
    return f"{where}: {error.get('msg', 'invalid')}"
