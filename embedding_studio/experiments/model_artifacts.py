"""Embedding models stored as MLflow run artifacts, and their local on-disk cache.

A run holds a model when its artifact folder `model/` is a saved model folder
(`embedding_studio.embeddings.models.serialization`: the wrapper's files plus
`embedding_model.json`) and the run has the tag `es_has_model = "true"`, set after the
upload completed. Downloads land in `<cache_dir>/<run_id>/`, renamed into place only when
complete, so a crash never leaves a half-written model that looks whole.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path

from embedding_studio.core.errors import InvalidRequest, NotFound
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.embeddings.models.serialization import (
    MANIFEST_FILE,
    load_embedding_model,
    save_embedding_model,
)
from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper

logger = logging.getLogger(__name__)

MODEL_ARTIFACT_PATH = "model"
TAG_HAS_MODEL = "es_has_model"
_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def check_run_id(run_id: str) -> str:
    """A run id usable as a folder name; InvalidRequest otherwise."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidRequest(f"{run_id!r} is not an embedding model id (an MLflow run id)")
    return run_id


def log_model(wrapper: MLflowClientWrapper, run_id: str, model: EmbeddingsModelInterface) -> None:
    """Save `model` to a temporary folder and upload it as the run's `model/` artifacts."""
    with tempfile.TemporaryDirectory(prefix="es-model-") as tmp:
        save_embedding_model(model, Path(tmp))
        wrapper.log_artifacts(run_id, tmp, MODEL_ARTIFACT_PATH)
    wrapper.set_tags(run_id, {TAG_HAS_MODEL: "true"})
    logger.info("logged model %s to MLflow run %s", type(model).__name__, run_id)


def run_has_model(wrapper: MLflowClientWrapper, run_id: str) -> bool:
    """True when the run exists and its model upload completed."""
    if not _RUN_ID.match(run_id or ""):
        return False
    run = wrapper.get_run(run_id)
    if run is None or run.info.lifecycle_stage == "deleted":
        return False
    return run.data.tags.get(TAG_HAS_MODEL) == "true"


class ModelCache:
    """Models downloaded from MLflow, kept in `<cache_dir>/<run_id>/`."""

    def __init__(self, cache_dir: str | Path) -> None:
        self.cache_dir = Path(cache_dir)

    def path(self, run_id: str) -> Path:
        return self.cache_dir / check_run_id(run_id)

    def contains(self, run_id: str) -> bool:
        return (self.path(run_id) / MANIFEST_FILE).exists()

    def load(self, wrapper: MLflowClientWrapper, run_id: str) -> EmbeddingsModelInterface:
        """The model of `run_id`, downloaded first if not cached.

        :raises NotFound: the run does not exist or holds no model
        :raises StorageUnavailable: MLflow cannot be reached
        """
        if not self.contains(run_id):
            self._download(wrapper, run_id)
        return load_embedding_model(self.path(run_id))

    def remove(self, run_id: str) -> None:
        shutil.rmtree(self.path(run_id), ignore_errors=True)

    def _download(self, wrapper: MLflowClientWrapper, run_id: str) -> None:
        target = self.path(run_id)
        if not run_has_model(wrapper, run_id):
            raise NotFound(f"embedding model {run_id} does not exist in MLflow or holds no model")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=self.cache_dir))
        try:
            local = Path(wrapper.download_artifacts(run_id, MODEL_ARTIFACT_PATH, str(staging)))
            if not (local / MANIFEST_FILE).exists():
                raise NotFound(f"MLflow run {run_id} has no {MODEL_ARTIFACT_PATH}/{MANIFEST_FILE}")
            if target.exists() and not (target / MANIFEST_FILE).exists():
                shutil.rmtree(target)  # left by an older, interrupted layout
            try:
                local.rename(target)
            except OSError:
                if not (target / MANIFEST_FILE).exists():
                    raise
                # another process or thread finished the same download first
            logger.info("downloaded model %s into %s", run_id, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
