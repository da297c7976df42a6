"""How file-like loaders (S3, local files) turn a file's bytes into an item's data."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class ContentDecodeError(ValueError):
    """The bytes are not in the expected form; the message says what was expected."""


class ContentFormat(StrEnum):
    """`raw`: bytes as stored; `text`: decoded string; `json`: a parsed JSON object."""

    raw = "raw"
    text = "text"
    json = "json"


def decode_content(raw: bytes, content_format: ContentFormat, encoding: str = "utf-8") -> Any:
    """Decode `raw` per `content_format`; raises `ContentDecodeError` when it cannot."""
    if content_format is ContentFormat.raw:
        return raw
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ContentDecodeError(
            f"not valid {encoding} text: {exc.reason} at byte {exc.start}"
        ) from None
    if content_format is ContentFormat.text:
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentDecodeError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(value, dict):
        raise ContentDecodeError(f"a JSON object was expected, got {type(value).__name__}")
    return value
