"""The plugins shipped in plugins/ (built-in ones and the example in plugins/custom/)
import cleanly and are registered only when enabled by name."""

from __future__ import annotations

from pathlib import Path

from embedding_studio.core.plugin import CategoriesFineTuningMethod, FineTuningMethod
from embedding_studio.core.plugin_manager import PluginManager

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_shipped_plugins_import_and_none_registers_unless_enabled() -> None:
    manager = PluginManager(enabled=[])
    manager.discover_plugins(PLUGINS)
    assert manager.failures == []
    assert manager.plugin_names == []
    assert set(manager.not_enabled) >= {
        "DefaultTextFineTuningMethod",
        "HFDictTextFineTuningMethod",
        "HFCategoriesTextFineTuningMethod",
        "ExampleTextPlugin",
    }
    assert Path(manager.not_enabled["ExampleTextPlugin"]).parent.name == "custom"


def test_built_in_plugin_classes_match_their_names() -> None:
    import importlib.util

    expected = {
        "dict_text_plugin.py": ("HFDictTextFineTuningMethod", FineTuningMethod),
        "categories_plugin.py": ("HFCategoriesTextFineTuningMethod", CategoriesFineTuningMethod),
    }
    for file, (name, base) in expected.items():
        spec = importlib.util.spec_from_file_location(f"check_{file[:-3]}", PLUGINS / file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        plugin_class = getattr(module, name)
        assert issubclass(plugin_class, base) and plugin_class.meta.name == name
