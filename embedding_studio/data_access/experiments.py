"""Online experiments and the searches they served, over the document store (both adapters).

- An experiment is stored once by id (`Conflict` for a taken id). Status changes are
  compare-and-set (created -> running -> stopped); at most one experiment runs at a time,
  held by a unique `running_slot` field: "running" on the running experiment, absent
  before, "stopped:<id>" after.
- A served search is stored per (experiment, session): a later page of the same session
  adds its results (compare-and-set on the result count, so concurrent pages both land).
- Clicks are read from the clickstream events of the served sessions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from embedding_studio.core.errors import Conflict, DuplicateKey, NotFound
from embedding_studio.data_access.clickstream import EVENTS
from embedding_studio.data_access.documents import CollectionSpec, Document, DocumentStore
from embedding_studio.models.common import to_iso
from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.models import (
    Experiment,
    ExperimentStatus,
    ServedResult,
    ServedSearch,
)

EXPERIMENTS = CollectionSpec(
    name="online_experiments", unique=("running_slot",), indexed=("status", "created_at")
)
SERVED = CollectionSpec(name="online_experiment_searches", indexed=("experiment_id", "created_at"))

RUNNING_SLOT = "running"
PAGE = 1000
SESSIONS_PER_QUERY = 500
MERGE_ATTEMPTS = 20


def served_key(experiment_id: str, session_id: str) -> str:
    return f"{experiment_id}:{session_id}"


def _experiment(document: Document) -> Experiment:
    data = {k: v for k, v in document.items() if k not in ("_id", "running_slot")}
    return Experiment.model_validate(data)


def _served_document(search: ServedSearch) -> Document:
    return {
        "_id": served_key(search.experiment_id, search.session_id),
        "experiment_id": search.experiment_id,
        "session_id": search.session_id,
        "unit": search.unit,
        "variant": search.variant,
        "results": [[r.object_id, r.position, r.team] for r in search.results],
        "results_count": len(search.results),
        "created_at": to_iso(utc_now()),
    }


def _served(document: Document) -> ServedSearch:
    return ServedSearch(
        experiment_id=document["experiment_id"],
        session_id=document["session_id"],
        unit=document["unit"],
        variant=document["variant"],
        results=tuple(ServedResult(o, int(p), t) for o, p, t in document["results"]),
    )


class ExperimentRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._experiments = store.collection(EXPERIMENTS)
        self._served = store.collection(SERVED)
        self._events = store.collection(EVENTS)

    # --- experiments -------------------------------------------------------------------

    def create(self, experiment: Experiment) -> Experiment:
        """Store a new experiment; `Conflict` when its id is taken."""
        document = {"_id": experiment.experiment_id, **experiment.model_dump(mode="json")}
        try:
            self._experiments.insert(document)
        except DuplicateKey as exc:
            raise Conflict(
                f"experiment {experiment.experiment_id!r} exists; choose another id"
            ) from exc
        return experiment

    def get(self, experiment_id: str) -> Experiment | None:
        document = self._experiments.get(experiment_id)
        return _experiment(document) if document else None

    def require(self, experiment_id: str) -> Experiment:
        experiment = self.get(experiment_id)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id!r} does not exist")
        return experiment

    def list(self) -> list[Experiment]:
        return [_experiment(d) for d in self._experiments.find(sort=[("created_at", 1)])]

    def running(self) -> Experiment | None:
        document = self._experiments.find_one({"status": ExperimentStatus.running.value})
        return _experiment(document) if document else None

    def start(self, experiment_id: str) -> Experiment:
        """created -> running. `Conflict` when it is not `created`, or another runs."""
        changes = {
            "status": ExperimentStatus.running.value,
            "running_slot": RUNNING_SLOT,
            "started_at": to_iso(utc_now()),
        }
        try:
            document = self._experiments.update(
                experiment_id, changes, where={"status": ExperimentStatus.created.value}
            )
        except DuplicateKey as exc:
            other = self.running()
            name = repr(other.experiment_id) if other else "another experiment"
            raise Conflict(
                f"experiment {name} is running; stop it before starting {experiment_id!r}"
            ) from exc
        if document is None:
            current = self.require(experiment_id)
            raise Conflict(
                f"experiment {experiment_id!r} is {current.status.value}; only a created "
                "experiment can start (create a new one to run again)"
            )
        return _experiment(document)

    def stop(self, experiment_id: str) -> Experiment:
        """running (or created) -> stopped; stopping a stopped experiment returns it."""
        changes = {
            "status": ExperimentStatus.stopped.value,
            # Not null: MongoDB's sparse unique index still indexes an explicit null.
            "running_slot": f"stopped:{experiment_id}",
            "stopped_at": to_iso(utc_now()),
        }
        active = [ExperimentStatus.created.value, ExperimentStatus.running.value]
        document = self._experiments.update(experiment_id, changes, where={"status": active})
        return _experiment(document) if document else self.require(experiment_id)

    # --- served searches ---------------------------------------------------------------

    def record(self, search: ServedSearch) -> None:
        """Store what a search showed; a later page of the session adds its new results."""
        document = _served_document(search)
        try:
            self._served.insert(document)
            return
        except DuplicateKey:
            pass
        for _ in range(MERGE_ATTEMPTS):
            stored = self._served.get(document["_id"])
            if stored is None:
                raise Conflict(f"served search {document['_id']!r} was deleted while recording")
            known = {row[0] for row in stored["results"]}
            added = [row for row in document["results"] if row[0] not in known]
            if not added:
                return
            results = stored["results"] + added
            changes = {"results": results, "results_count": len(results)}
            where = {"results_count": stored["results_count"]}
            if self._served.update(document["_id"], changes, where=where) is not None:
                return
        raise Conflict(f"session {search.session_id!r} is being recorded concurrently; retry")

    def served(self, experiment_id: str) -> Iterator[ServedSearch]:
        """Every search the experiment served, oldest first, read page by page."""
        skip = 0
        while True:
            documents = self._served.find(
                {"experiment_id": experiment_id},
                sort=[("created_at", 1), ("_id", 1)],
                skip=skip,
                limit=PAGE,
            )
            yield from (_served(d) for d in documents)
            if len(documents) < PAGE:
                return
            skip += PAGE

    def clicked(self, session_ids: Sequence[str], event_type: str) -> dict[str, set[str]]:
        """The objects each session's events of `event_type` name."""
        clicked: dict[str, set[str]] = {}
        for start in range(0, len(session_ids), SESSIONS_PER_QUERY):
            chunk = list(session_ids[start : start + SESSIONS_PER_QUERY])
            where: dict[str, Any] = {"session_id": chunk, "event_type": event_type}
            for event in self._events.find(where):
                clicked.setdefault(event["session_id"], set()).add(event["object_id"])
        return clicked
