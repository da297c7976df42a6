"""SQLAlchemy Core descriptions of the suggestion tables (created by migration 0009)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Sequence,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

revisions = Sequence("suggestion_phrases_revision", metadata=metadata)

phrases = Table(
    "suggestion_phrases",
    metadata,
    Column("phrase_id", Text, primary_key=True),
    Column("phrase", Text, nullable=False),
    Column("folded", Text, nullable=False),
    Column("prob", Float, nullable=False),
    Column("labels", ARRAY(Text), nullable=False),
    Column("domains", ARRAY(Text), nullable=False),
    Column("origin", Text, nullable=False),
    Column("clicks", BigInteger, nullable=False),
    Column("is_deleted", Boolean, nullable=False),
    Column("revision", BigInteger, nullable=False, server_default=revisions.next_value()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

learned_sessions = Table(
    "suggestion_learned_sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("phrase_id", Text, nullable=False),
    Column("clicks", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
