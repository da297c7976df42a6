"""`.env.example` documents every setting, with its real default and a line of meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from embedding_studio.core.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
SETTING_LINE = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=(.*)$")


def documented_settings() -> dict[str, tuple[str, str]]:
    """NAME -> (example value, the comment lines just above it)."""
    found: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = SETTING_LINE.match(line)
        if match:
            found[match.group(1)] = (match.group(2), " ".join(comment))
            comment = []
        elif line.startswith("#") and not line.startswith("# ---"):
            comment.append(line.lstrip("# ").strip())
        else:
            comment = []
    return found


def test_env_example_lists_exactly_the_settings() -> None:
    documented = set(documented_settings())
    fields = set(Settings.model_fields)
    assert not fields - documented, f"missing from .env.example: {sorted(fields - documented)}"
    assert not documented - fields, f"not settings: {sorted(documented - fields)}"


def test_every_setting_has_a_meaning_line() -> None:
    for name, (_value, meaning) in documented_settings().items():
        assert len(meaning) >= 10, f"{name} has no explanation above it in .env.example"


def test_every_setting_line_is_commented_out() -> None:
    """Copying the file to .env must change nothing (a set server URL would stop `up`
    from starting its own server)."""
    for line in ENV_EXAMPLE.read_text().splitlines():
        assert not re.match(r"^[A-Z][A-Z0-9_]*=", line), f"uncommented setting: {line}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_example_value_is_the_default(name: str) -> None:
    value, _meaning = documented_settings()[name]
    default = Settings.model_fields[name].default
    if value.startswith("<"):  # depends on the machine, e.g. <home>/...
        return
    if value == "":
        assert default is None, (
            f"{name}: .env.example leaves it empty but the default is {default!r}"
        )
        return
    parsed = Settings(_env_file=None, **{name: value})  # type: ignore[call-arg]
    assert getattr(parsed, name) == default, f"{name}: .env.example says {value!r}"
