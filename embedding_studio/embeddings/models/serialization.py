"""Save and load any `EmbeddingsModelInterface` as a folder of plain files.

Layout of a saved model folder:

    embedding_model.json    {"format_version": 1, "wrapper_class": "pkg.module.Class",
                             "config": {...}}
    ...                     whatever the wrapper's `save(directory)` writes

The manifest names the wrapper class by import path, so a process that did not create
the model (a worker, the inference exporter) can load it. Nothing is pickled.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

MANIFEST_FILE = "embedding_model.json"
FORMAT_VERSION = 1
_CLASS_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class ModelFormatError(ValueError):
    """A model folder is incomplete or names a class that is not a model wrapper."""


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def save_embedding_model(model: EmbeddingsModelInterface, directory: Path) -> Path:
    """Write `model` and its manifest into `directory`; returns the manifest path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory)
    manifest = {
        "format_version": FORMAT_VERSION,
        "wrapper_class": class_path(type(model)),
        "config": model.get_config(),
    }
    path = directory / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return path


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        raise ModelFormatError(f"{path} is missing: {directory} is not a saved embedding model")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path}: unsupported manifest (expected format_version {FORMAT_VERSION})"
        )
    return manifest


def resolve_wrapper_class(path: str) -> type[EmbeddingsModelInterface]:
    """Import `pkg.module.Class` and check it is an `EmbeddingsModelInterface`."""
    if not _CLASS_PATH.match(path):
        raise ModelFormatError(f"wrapper_class {path!r} is not a dotted import path")
    module_name, _, class_name = path.rpartition(".")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, EmbeddingsModelInterface):
        raise ModelFormatError(f"{path} is not an EmbeddingsModelInterface subclass")
    return cls


def load_embedding_model(directory: Path) -> EmbeddingsModelInterface:
    """Load a folder written by `save_embedding_model`, on the CPU, in eval mode."""
    manifest = read_manifest(directory)
    cls = resolve_wrapper_class(str(manifest.get("wrapper_class", "")))
    model = cls.load(Path(directory))
    model.eval()
    return model
