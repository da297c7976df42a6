"""Parent links between categories, for selectors that add a match's ancestors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

ParentsLoader = Callable[[list[str]], Mapping[str, list[str]]]
"""Given category ids, returns the parent ids of those it knows (unknown ids are left
out, and are then taken as roots)."""


def parent_ids_from_payload(payload: Mapping[str, Any] | None, field: str) -> list[str]:
    """The parent ids a category's payload names in `field`: one id, a list of ids, or
    nothing (None, missing, empty)."""
    value = (payload or {}).get(field)
    if value is None or value == "":
        return []
    if isinstance(value, str | int):
        return [str(value)]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item is not None and item != ""]
    raise ValueError(f"category parent field {field!r} must be an id or a list of ids: {value!r}")


class CategoryGraph:
    """Directed graph of category relationships (child -> parents): a tree, a forest, or a
    DAG where a category has several parents.

    Parents are given up front (`parents`), added with `add_category`, or fetched on
    demand by `parents_loader` for ids the graph has not seen yet (so a graph over a large
    category collection reads only the categories a query needs).

    Example::

        graph = CategoryGraph({"running_shoes": "shoes", "shoes": "apparel", "apparel": None})
        graph.get_ancestors("running_shoes")  # ["shoes", "apparel"]

    :param parents: category id -> its parent id, list of parent ids, or None for a root
    :param parents_loader: fetches the parents of unseen ids, in batches
    """

    def __init__(
        self,
        parents: Mapping[str, str | Iterable[str] | None] | None = None,
        parents_loader: ParentsLoader | None = None,
    ) -> None:
        self._parents: dict[str, list[str]] = {}
        self._parents_loader = parents_loader
        for category_id, parent in (parents or {}).items():
            if parent is None:
                self.add_category(category_id)
            elif isinstance(parent, str):
                self.add_category(category_id, [parent])
            else:
                self.add_category(category_id, list(parent))

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]]) -> CategoryGraph:
        """A graph from (child id, parent id) pairs."""
        graph = cls()
        for child, parent in edges:
            graph.add_category(child, [*graph._parents.get(child, []), parent])
        return graph

    def add_category(self, category_id: str, parent_ids: Iterable[str] = ()) -> None:
        """Set a category's parents (replacing those known); a category is not its own
        parent."""
        parents = [p for p in dict.fromkeys(str(p) for p in parent_ids) if p != category_id]
        self._parents[str(category_id)] = parents

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._parents

    def get_parents(self, category_id: str) -> list[str]:
        """The direct parents of a category ([] for a root or an unknown id)."""
        self._load([category_id])
        return list(self._parents.get(category_id, []))

    def get_ancestors(self, category_id: str) -> list[str]:
        """Every ancestor of a category, nearest first (parents, then grandparents...),
        each once; a cycle in the links does not loop."""
        seen = {category_id}
        ancestors: list[str] = []
        level = [category_id]
        while level:
            self._load(level)
            next_level: list[str] = []
            for node in level:
                for parent in self._parents.get(node, []):
                    if parent not in seen:
                        seen.add(parent)
                        ancestors.append(parent)
                        next_level.append(parent)
            level = next_level
        return ancestors

    def _load(self, category_ids: list[str]) -> None:
        unknown = [c for c in dict.fromkeys(category_ids) if c not in self._parents]
        if not unknown or self._parents_loader is None:
            return
        found = self._parents_loader(unknown)
        for category_id in unknown:
            self.add_category(category_id, found.get(category_id, []))
