from __future__ import annotations

import textwrap
from pathlib import Path

from embedding_studio.core.plugin_manager import PluginManager

HEADER = """
from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.plugin import PluginMeta

class Complete(FineTuningMethod):
    def upload_initial_model(self): ...
    def get_query_retriever(self): ...
    def get_items_preprocessor(self): ...
    def get_data_loader(self): ...
    def get_manager(self): ...
    def get_inference_client_factory(self): ...
    def get_fine_tuning_builder(self, clickstream): ...
    def get_search_index_info(self): ...
    def get_vectors_adjuster(self): ...
    def get_vectordb_optimizations(self): ...
"""


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(HEADER) + textwrap.dedent(body))
    return path


def test_registers_enabled_plugins_recursively(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "custom/deep/good.py",
        """
class Good(Complete):
    meta = PluginMeta(name="Good", version="1.0", description="d")
""",
    )
    manager = PluginManager(enabled=["Good"])
    manager.discover_plugins(tmp_path)
    assert manager.plugin_names == ["Good"]
    assert manager.get_plugin("Good").meta.version == "1.0"
    assert manager.failures == []


def test_plugins_not_enabled_are_not_registered(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.py",
        """
class Other(Complete):
    meta = PluginMeta(name="Other")
""",
    )
    manager = PluginManager(enabled=[])
    manager.discover_plugins(tmp_path)
    assert manager.plugin_names == [] and manager.failures == []


def test_broken_plugins_are_reported_and_others_load(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "good.py",
        """
class Good(Complete):
    meta = PluginMeta(name="Good")
""",
    )
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    _write(
        tmp_path,
        "no_meta.py",
        """
class NoMeta(Complete):
    pass
""",
    )
    _write(
        tmp_path,
        "abstract.py",
        """
class Half(FineTuningMethod):
    meta = PluginMeta(name="Half")
    def upload_initial_model(self): ...
""",
    )
    _write(
        tmp_path,
        "raises.py",
        """
class Raises(Complete):
    meta = PluginMeta(name="Raises")
    def __init__(self):
        raise RuntimeError("no credentials")
""",
    )
    manager = PluginManager(enabled=["Good", "Half", "Raises", "Missing"])
    manager.discover_plugins(tmp_path)
    assert manager.plugin_names == ["Good"]
    reasons = {(Path(f.file).name, f.name): f.reason for f in manager.failures}
    assert "import failed: SyntaxError" in reasons[("syntax.py", None)]
    assert "no `meta" in reasons[("no_meta.py", "NoMeta")]
    assert "get_data_loader" in reasons[("abstract.py", "Half")]
    assert "RuntimeError: no credentials" in reasons[("raises.py", "Raises")]
    assert any(f.name == "Missing" and "no plugin class" in f.reason for f in manager.failures)


def test_second_plugin_with_a_taken_name_is_refused_naming_both_files(tmp_path: Path) -> None:
    for name in ("one.py", "two.py"):
        _write(
            tmp_path,
            name,
            """
class Same(Complete):
    meta = PluginMeta(name="Same")
""",
        )
    manager = PluginManager(enabled=["Same"])
    manager.discover_plugins(tmp_path)
    assert manager.plugin_names == ["Same"]
    (failure,) = manager.failures
    assert "one.py" in failure.reason and failure.file.endswith("two.py")


def test_a_failure_after_registration_is_recorded_against_the_plugin_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "good.py",
        """
class Good(Complete):
    meta = PluginMeta(name="Good")
""",
    )
    manager = PluginManager(enabled=["Good"])
    manager.discover_plugins(tmp_path)
    manager.record_failure(manager.require("Good"), "bootstrap failed: boom")
    (failure,) = manager.failures
    assert (failure.name, failure.file, failure.reason) == (
        "Good",
        str(path),
        "bootstrap failed: boom",
    )
    assert manager.plugin_names == ["Good"]
