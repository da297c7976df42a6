"""The registry of vector collections, the blue pointer and the applied optimizations.

One row per (prefix, kind, embedding model id). A partial unique index allows at most one
blue collection per (prefix, kind). The statements are fixed DDL: no data goes into them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STATEMENTS = (
    """
    CREATE TABLE vectordb_collections (
        id BIGSERIAL PRIMARY KEY,
        prefix TEXT NOT NULL,
        kind TEXT NOT NULL,
        embedding_model_id TEXT NOT NULL,
        plugin_name TEXT NOT NULL,
        search_index_info JSONB NOT NULL,
        state TEXT NOT NULL,
        is_blue BOOLEAN NOT NULL DEFAULT false,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT vectordb_collections_model_key UNIQUE (prefix, kind, embedding_model_id)
    )
    """,
    """
    CREATE UNIQUE INDEX vectordb_collections_one_blue
        ON vectordb_collections (prefix, kind) WHERE is_blue
    """,
    """
    CREATE TABLE vectordb_applied_optimizations (
        collection_id BIGINT NOT NULL
            REFERENCES vectordb_collections (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (collection_id, name)
    )
    """,
)


def upgrade(connection: Connection) -> None:
    installed = connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    ).first()
    if installed is None:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    for statement in STATEMENTS:
        connection.execute(text(statement))
