"""Turn a dict item into one line of text for an embedding model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def get_json_line_from_dict(
    object: Mapping[str, Any],
    field_names: Mapping[str, str] | None = None,
) -> str:
    """Convert a dict into a one-line JSON string (the `DictItemSetManager` default).

    :param object: the item, a mapping of field name to value. Values that JSON cannot
        represent (dates, decimals...) are written with `str()`.
    :param field_names: optional mapping of original field name to the name to write;
        when given, only the fields it lists are kept, in the item's order.
    :return: e.g. `{"title": "Lamp", "price": 12}`; non-ASCII characters are written as
        they are (not `\\u` escapes), so the model sees the real text.
    :raises TypeError: if `object` is not a mapping.

    `JSONSplitter` parses this line back into per-field blocks.
    """
    if not isinstance(object, Mapping):
        raise TypeError(f"get_json_line_from_dict expects a dict, got {type(object).__name__}")
    if field_names is not None:
        object = {field_names[key]: value for key, value in object.items() if key in field_names}
    return json.dumps(dict(object), ensure_ascii=False, default=str)
