"""Load what the first improvement needs (context, plugins, the blue model) ahead of it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from embedding_studio.services.search import embed_query

if TYPE_CHECKING:
    from embedding_studio.context.app_context import AppContext

logger = logging.getLogger(__name__)


def warm_up(ctx: AppContext) -> None:
    """Embed a throwaway query with the blue model so that its weights are loaded."""
    info = ctx.vectordb.get_blue_collection().info
    embed_query(ctx, "warm up", info.plugin_name, info.embedding_model_id)
    logger.info(
        "improvement worker warm: model %s of %s", info.embedding_model_id, info.plugin_name
    )
