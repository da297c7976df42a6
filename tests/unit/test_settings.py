from __future__ import annotations

import pytest
from pydantic import ValidationError

from embedding_studio.core.config import Settings


def test_plugin_list_accepts_json_and_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_USED_PLUGINS", '["A", "B"]')
    assert Settings().INFERENCE_USED_PLUGINS == ["A", "B"]
    monkeypatch.setenv("INFERENCE_USED_PLUGINS", "A, B ,C")
    assert Settings().INFERENCE_USED_PLUGINS == ["A", "B", "C"]


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSERTION_BATCH_SIZE", "0")
    with pytest.raises(ValidationError, match="UPSERTION_BATCH_SIZE"):
        Settings()


def test_mongo_is_used_only_for_a_mongodb_url() -> None:
    assert not Settings(DOCUMENT_STORE_URL=None).uses_mongo
    assert Settings(DOCUMENT_STORE_URL="mongodb://localhost:27017").uses_mongo
