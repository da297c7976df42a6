"""Split a dict item (or its JSON line) into one block per field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from embedding_studio.embeddings.splitters.item_splitter import ItemSplitter


class JSONSplitter(ItemSplitter):
    """Splits a dict item into one text block per listed field: `"<field>: <value>"`.

    Meant as the `blocks_splitter` of `TokenGroupTextSplitter` for dict items, so that
    parts respect field boundaries. It takes either the dict itself or the JSON object
    string made by `get_json_line_from_dict` (what `DictItemSetManager` produces).

    Value text: a string as is; a list of scalars joined with ", "; anything else as
    compact JSON. Fields that are missing, None, or empty are skipped; an item with none
    of the fields gives `[]`.

    :param field_names: the fields to keep, in the order of the blocks; None keeps every
        field in the item's own order.
    :param field_name_separator: written between a field's name and its value.
    :raises ValueError: (on call) if a string item is not a JSON object.

    Example::

        JSONSplitter(field_names=["title", "tags"])({"title": "Lamp", "tags": ["a", "b"]})
        # ["title: Lamp", "tags: a, b"]
    """

    def __init__(
        self, field_names: list[str] | None = None, field_name_separator: str = ": "
    ) -> None:
        self.field_names = list(field_names) if field_names is not None else None
        self.field_name_separator = field_name_separator

    def __call__(self, item: Mapping[str, Any] | str) -> list[str]:
        """Split `item` (a dict or a JSON object string) into per-field blocks."""
        data = _as_mapping(item)
        names = self.field_names if self.field_names is not None else list(data)
        blocks: list[str] = []
        for name in names:
            text = _value_text(data.get(name)).strip()
            if text:
                blocks.append(f"{name}{self.field_name_separator}{text}")
        return blocks


def _as_mapping(item: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return item
    if not isinstance(item, str):
        raise TypeError(f"JSONSplitter expects a dict or a JSON string, got {type(item).__name__}")
    try:
        data = json.loads(item)
    except json.JSONDecodeError as exc:
        raise ValueError(
            "JSONSplitter expects a JSON object string (use transform=get_json_line_from_dict); "
            f"got text starting {item[:40]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise ValueError(f"JSONSplitter expects a JSON object, got {type(data).__name__}")
    return data


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(
        isinstance(element, str | int | float | bool) for element in value
    ):
        return ", ".join(str(element) for element in value)
    return json.dumps(value, ensure_ascii=False, default=str)
