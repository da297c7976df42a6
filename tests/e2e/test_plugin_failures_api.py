"""Broken plugins do not stop the platform: the API starts, logs which file failed and
why, and /api/v1/health lists each failed plugin. A second plugin with a taken name is
refused with a message naming both files."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sdk_stack import create_database, with_redis_database
from tests.e2e.stack import Stack

COMPLETE = """
from typing import Any

from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.models.plugin import PluginMeta


class _Manager:
    def get_initial_model_run_id(self) -> str:
        return "{model_id}"


class Complete(FineTuningMethod):
    def upload_initial_model(self) -> None: ...
    def get_query_retriever(self) -> Any: ...
    def get_items_preprocessor(self) -> Any: ...
    def get_data_loader(self) -> Any: ...
    def get_manager(self) -> Any:
        return _Manager()
    def get_inference_client_factory(self) -> Any: ...
    def get_fine_tuning_builder(self, clickstream: Any) -> Any: ...
    def get_search_index_info(self) -> SearchIndexInfo:
        return SearchIndexInfo(dimensions=8)
    def get_vectors_adjuster(self) -> Any: ...
    def get_vectordb_optimizations(self) -> list[Any]:
        return []
"""

PLUGIN_FILES = {
    "no_meta.py": """
class NoMetaPlugin(Complete):
    pass
""",
    "abstract_missing.py": """
class HalfPlugin(FineTuningMethod):
    meta = PluginMeta(name="HalfPlugin")

    def upload_initial_model(self) -> None: ...
""",
    "custom/raising_init.py": """
class RaisingPlugin(Complete):
    meta = PluginMeta(name="RaisingPlugin")

    def __init__(self) -> None:
        raise RuntimeError("ARTICLES_DB_PASSWORD is not set")
""",
    "custom/broken_import.py": """
import a_module_that_is_not_installed
""",
    "custom/twin_a.py": """
class TwinPlugin(Complete):
    meta = PluginMeta(name="TwinPlugin", version="1.0.0")
""",
    "custom/twin_b.py": """
class TwinPluginCopy(Complete):
    meta = PluginMeta(name="TwinPlugin", version="2.0.0")
""",
    "custom/spare.py": """
class SparePlugin(Complete):
    meta = PluginMeta(name="SparePlugin")
""",
}

ENABLED = '["NoMetaPlugin", "HalfPlugin", "RaisingPlugin", "TwinPlugin", "TypoPlugin"]'


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad_plugins")
    header = textwrap.dedent(COMPLETE).replace("{model_id}", "0123456789abcdef0123456789abcdef")
    for name, body in PLUGIN_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + textwrap.dedent(body))
    return root


@pytest.fixture(scope="module")
def api(
    stack_env: dict[str, str],
    postgres_url: str,
    plugins_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    env = {
        **stack_env,
        "POSTGRES_URL": create_database(postgres_url),
        "REDIS_URL": with_redis_database(stack_env["REDIS_URL"], 6),
        "ES_PLUGINS_PATH": str(plugins_dir),
        "INFERENCE_USED_PLUGINS": ENABLED,
    }
    running = Stack(env=env, log_dir=Path(tmp_path_factory.mktemp("bad_plugins_logs")))
    try:
        running.start_api()
        yield running
    finally:
        running.stop()


def failed_plugins(api: Stack) -> str:
    with api.client() as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 503, response.text
    plugins = response.json()["dependencies"]["plugins"]
    assert plugins["status"] == "error"
    return plugins["detail"]


def test_the_platform_starts_and_serves_the_valid_plugin(api: Stack) -> None:
    with api.client() as client:
        assert client.get("/api/v1/ping").status_code == 200
        health = client.get("/api/v1/health").json()["dependencies"]
    assert health["postgres"]["status"] == "ok"
    assert health["blue_collection"]["status"] == "ok"
    assert health["blue_collection"]["detail"].startswith("TwinPlugin /")


@pytest.mark.parametrize(
    ("plugin", "file", "reason"),
    [
        ("NoMetaPlugin", "no_meta.py", "class has no `meta = PluginMeta(...)` attribute"),
        ("HalfPlugin", "abstract_missing.py", "abstract methods not implemented: get_data_loader,"),
        (
            "RaisingPlugin",
            "custom/raising_init.py",
            "__init__ raised RuntimeError: ARTICLES_DB_PASSWORD is not set",
        ),
        (
            "?",
            "custom/broken_import.py",
            "import failed: ModuleNotFoundError: No module named 'a_module_that_is_not_installed'",
        ),
        (
            "TypoPlugin",
            "",  # no file has it: the plugin folder is named
            "enabled in INFERENCE_USED_PLUGINS but no plugin class has this name; "
            "found but not enabled: ['SparePlugin']",
        ),
    ],
)
def test_health_lists_each_failed_plugin_with_its_file_and_reason(
    api: Stack, plugins_dir: Path, plugin: str, file: str, reason: str
) -> None:
    assert f"{plugin} ({plugins_dir / file}): {reason}" in failed_plugins(api)


def test_the_log_names_the_file_and_the_reason(api: Stack) -> None:
    log = api.tail("api", lines=400)
    assert "raising_init.py" in log and "ARTICLES_DB_PASSWORD is not set" in log
    assert "no_meta.py" in log and "broken_import.py" in log


def test_a_second_plugin_with_a_taken_name_is_refused_naming_both_files(
    api: Stack, plugins_dir: Path
) -> None:
    detail = failed_plugins(api)
    first, second = plugins_dir / "custom" / "twin_a.py", plugins_dir / "custom" / "twin_b.py"
    assert f"TwinPlugin ({second}): plugin name 'TwinPlugin' is already taken by {first}" in detail
