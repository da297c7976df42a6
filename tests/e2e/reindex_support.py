"""Helpers of the reindex tests: destination models in MLflow, the reindex worker, and
direct reads of the collections (to check what the API reports)."""

from __future__ import annotations

import copy
from typing import Any

import torch

from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.experiments.experiments_tracker import ExperimentsManager
from embedding_studio.experiments.mlflow_client_wrapper import MLflowClientWrapper

PLUGIN = "DefaultTextFineTuningMethod"


def perturbed_copy(minilm: Any, seed: int, scale: float = 0.02) -> TextToTextSBERTModel:
    """A copy of MiniLM whose word embeddings moved a little: its vectors differ from
    the original's (so a copy of vectors is told from a re-embedding) while rankings of
    clear queries stay the same."""
    model = copy.deepcopy(minilm)
    generator = torch.Generator().manual_seed(seed)
    weights = model[0].auto_model.embeddings.word_embeddings.weight
    with torch.no_grad():
        weights.add_(scale * torch.randn(weights.shape, generator=generator))
    return TextToTextSBERTModel(model)


def log_model(mlflow_uri: str, model: TextToTextSBERTModel, label: str) -> str:
    """Log `model` as a finished run of the default plugin (as a fine-tuning trial would
    be); returns the run id, i.e. the embedding model id."""
    manager = ExperimentsManager(
        MLflowClientWrapper(mlflow_uri),
        main_metric="unused",
        plugin_name=PLUGIN,
        accumulators=[],
        experiment_name=f"{PLUGIN} / reindex tests",
    )
    run_id = manager.start_run({"purpose": label})
    manager.save_model(run_id, model)
    manager.finish_run(run_id)
    return run_id
