"""The suggestion phrase pool and the clickstream sessions it learned from.

`suggestion_phrases` keeps one row per phrase ever added (a deleted phrase stays as a
tombstone, `is_deleted`, so learning does not bring it back and every process's index
hears of the deletion). Every write takes a revision from `suggestion_phrases_revision`
while holding the suggestion write lock, so revisions become visible in order and a
process can follow the pool by asking for rows newer than the last revision it saw.
The statements are fixed DDL: no data goes into them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STATEMENTS = (
    "CREATE SEQUENCE suggestion_phrases_revision",
    """
    CREATE TABLE suggestion_phrases (
        phrase_id TEXT PRIMARY KEY,
        phrase TEXT NOT NULL,
        folded TEXT NOT NULL,
        prob DOUBLE PRECISION NOT NULL CHECK (prob >= 0 AND prob <= 1),
        labels TEXT[] NOT NULL DEFAULT '{}',
        domains TEXT[] NOT NULL DEFAULT '{}',
        origin TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'learned')),
        clicks BIGINT NOT NULL DEFAULT 0,
        is_deleted BOOLEAN NOT NULL DEFAULT false,
        revision BIGINT NOT NULL DEFAULT nextval('suggestion_phrases_revision'),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    "CREATE UNIQUE INDEX suggestion_phrases_by_revision ON suggestion_phrases (revision)",
    """
    CREATE INDEX suggestion_phrases_live_by_text
        ON suggestion_phrases (phrase COLLATE "C", phrase_id) WHERE NOT is_deleted
    """,
    "CREATE INDEX suggestion_phrases_by_folded ON suggestion_phrases (folded)",
    "CREATE INDEX suggestion_phrases_by_label ON suggestion_phrases USING gin (labels)",
    "CREATE INDEX suggestion_phrases_by_domain ON suggestion_phrases USING gin (domains)",
    """
    CREATE TABLE suggestion_learned_sessions (
        session_id TEXT PRIMARY KEY,
        phrase_id TEXT NOT NULL,
        clicks INTEGER NOT NULL CHECK (clicks >= 0),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE INDEX suggestion_learned_sessions_by_phrase
        ON suggestion_learned_sessions (phrase_id)
    """,
)


def upgrade(connection: Connection) -> None:
    for statement in STATEMENTS:
        connection.execute(text(statement))
