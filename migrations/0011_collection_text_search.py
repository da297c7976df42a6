"""Full-text search for collections created before it existed.

Every registered collection whose objects table lacks the generated `text_search` column
gets it (from its registry row's `text_search_fields`, the default ones for rows stored
before that setting existed) and its GIN index. Collections created later get both with
their tables (`vectordb.schema`). Adding a stored generated column rewrites the table.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select

from embedding_studio.models.embeddings.models import SearchIndexInfo
from embedding_studio.vectordb.registry import collections_table
from embedding_studio.vectordb.schema import collection_tables
from embedding_studio.vectordb.text_index import add_text_search

logger = logging.getLogger(__name__)


def upgrade(connection: Connection) -> None:
    columns = collections_table.c
    rows = connection.execute(
        select(columns.id, columns.prefix, columns.search_index_info).order_by(columns.id)
    ).all()
    for row in rows:
        tables = collection_tables(
            row.prefix, row.id, SearchIndexInfo.model_validate(row.search_index_info)
        )
        index = tables.text_index
        if index is not None and add_text_search(connection, tables.objects, index):
            logger.info("collection table %s: full-text column added", tables.objects.name)
