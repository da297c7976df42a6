"""Discovers plugin classes in plugin folders and registers the enabled ones.

A file that fails to import, a class without `meta` or with abstract methods left, a
plugin whose `__init__` raises, or a second plugin with a taken name is recorded in
`failures` (file and reason) and skipped; the other plugins load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from embedding_studio.core.errors import NotFound
from embedding_studio.core.plugin import CategoriesFineTuningMethod, FineTuningMethod
from embedding_studio.models.plugin import PluginMeta

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginFailure:
    name: str | None
    file: str
    reason: str


class PluginManager:
    """Manages the loading and return of plugins."""

    def __init__(self, enabled: list[str] | None = None) -> None:
        self._enabled = list(enabled or [])
        self._plugins: dict[str, FineTuningMethod] = {}
        self._files: dict[str, str] = {}
        self.failures: list[PluginFailure] = []
        self.not_enabled: dict[str, str] = {}  # plugins found but not enabled: name -> file

    @property
    def plugin_names(self) -> list[str]:
        return list(self._plugins.keys())

    def get_plugin(self, name: str) -> FineTuningMethod | None:
        """Return a plugin by name, or None when it is not registered."""
        return self._plugins.get(name)

    def require(self, name: str) -> FineTuningMethod:
        plugin = self._plugins.get(name)
        if plugin is None:
            raise NotFound(f"plugin {name!r} is not registered; registered: {self.plugin_names}")
        return plugin

    def search_plugins(self) -> list[FineTuningMethod]:
        return [p for p in self._plugins.values() if not isinstance(p, CategoriesFineTuningMethod)]

    def categories_plugins(self) -> list[CategoriesFineTuningMethod]:
        return [p for p in self._plugins.values() if isinstance(p, CategoriesFineTuningMethod)]

    def discover_plugins(self, directory: str | Path) -> None:
        """Import every `.py` file below `directory` (recursively) and register the
        plugin classes listed in `INFERENCE_USED_PLUGINS`."""
        root = Path(directory)
        if not root.is_dir():
            logger.warning("plugin folder %s does not exist", root)
            return
        for path in sorted(root.rglob("*.py")):
            if path.name.startswith("_") or "__pycache__" in path.parts:
                continue
            module = self._import(path)
            if module is not None:
                self._register_from(module, path)
        missing = [n for n in self._enabled if n not in self._plugins and not self._failed(n)]
        found = f"; found but not enabled: {sorted(self.not_enabled)}" if self.not_enabled else ""
        for name in missing:
            self._fail(
                name,
                str(root),
                f"enabled in INFERENCE_USED_PLUGINS but no plugin class has this name{found}",
            )

    def register(self, plugin_class: type[FineTuningMethod], file: str = "<code>") -> None:
        """Validate, instantiate and register one plugin class."""
        meta = getattr(plugin_class, "meta", None)
        if not isinstance(meta, PluginMeta):
            self._fail(
                plugin_class.__name__, file, "class has no `meta = PluginMeta(...)` attribute"
            )
            return
        if inspect.isabstract(plugin_class):
            missing = sorted(getattr(plugin_class, "__abstractmethods__", ()))
            self._fail(meta.name, file, f"abstract methods not implemented: {', '.join(missing)}")
            return
        if meta.name not in self._enabled:
            logger.info("plugin %s (%s) found but not enabled", meta.name, file)
            self.not_enabled.setdefault(meta.name, file)
            return
        if meta.name in self._plugins:
            other = self._files[meta.name]
            self._fail(meta.name, file, f"plugin name {meta.name!r} is already taken by {other}")
            return
        try:
            plugin = plugin_class()
        except Exception as exc:  # a user's __init__ may raise anything
            logger.exception("plugin %s failed to initialise", meta.name)
            self._fail(meta.name, file, f"__init__ raised {type(exc).__name__}: {exc}")
            return
        self._plugins[meta.name] = plugin
        self._files[meta.name] = file
        logger.info("registered plugin %s %s from %s", meta.name, meta.version, file)

    def _import(self, path: Path) -> ModuleType | None:
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
        module_name = f"es_plugin_{path.stem}_{digest}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        try:
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError("not a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:  # a broken plugin file must not stop the others
            sys.modules.pop(module_name, None)
            logger.error("plugin file %s failed to import: %s", path, exc)
            self._fail(None, str(path), f"import failed: {type(exc).__name__}: {exc}")
            return None
        return module

    def _register_from(self, module: ModuleType, path: Path) -> None:
        classes = [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, FineTuningMethod)
            and obj.__module__ == module.__name__
            and obj not in (FineTuningMethod, CategoriesFineTuningMethod)
        ]
        for obj in classes:
            is_base = any(other is not obj and issubclass(other, obj) for other in classes)
            if is_base and not isinstance(getattr(obj, "meta", None), PluginMeta):
                continue  # an intermediate base class of the file's plugins, not a plugin
            self.register(obj, str(path))

    def record_failure(self, plugin: FineTuningMethod, reason: str) -> None:
        """Report a registered plugin that failed later (e.g. while its collection was set up);
        it stays registered, and health lists it as failed."""
        name = plugin.meta.name
        self._fail(name, self._files.get(name, "<code>"), reason)

    def _failed(self, name: str) -> bool:
        return any(f.name == name for f in self.failures)

    def _fail(self, name: str | None, file: str, reason: str) -> None:
        logger.error("plugin %s (%s) skipped: %s", name or "?", file, reason)
        self.failures.append(PluginFailure(name=name, file=file, reason=reason))
