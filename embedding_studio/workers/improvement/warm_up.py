"""Load what the first improvement needs (context, plugins, the blue model) ahead of it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import torch

from embedding_studio.embeddings.data.clickstream.improvement_input import (
    ImprovementElement,
    ImprovementInput,
)
from embedding_studio.services.search import embed_query

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


def warm_up(ctx: AppContext) -> None:
    """Embed a throwaway query with the blue model (its weights load) and run the
    plugin's adjuster on throwaway vectors (the optimiser's modules load)."""
    info = ctx.vectordb.get_blue_collection().info
    query = embed_query(ctx, "warm up", info.plugin_name, info.embedding_model_id)
    vector = torch.tensor([query])
    element = ImprovementElement(id="warm-up", vector=vector)
    adjuster = ctx.plugin_manager.require(info.plugin_name).get_vectors_adjuster()
    adjuster.adjust_vectors(
        [
            ImprovementInput(
                session_id="warm-up",
                query=element,
                clicked_elements=[element],
                non_clicked_elements=[element],
            )
        ]
    )
    logger.info(
        "improvement worker warm: model %s of %s", info.embedding_model_id, info.plugin_name
    )
