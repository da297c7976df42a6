"""PostgreSQL loaders against a real server: by id, in full, with the seed's custom join."""

# The seed tutorial's ArticleQueryGenerator is quoted verbatim; its attributes start as None.
# mypy: disable-error-code="assignment, attr-defined, call-overload"

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, MetaData, Select, Table, func, select
from sqlalchemy.engine import make_url

from embedding_studio.core.errors import StorageUnavailable
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_dict_loader import PgsqlDictLoader
from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_text_loader import PgsqlTextLoader
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator
from embedding_studio.embedded.services import free_port

SCHEMA = """
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE categories (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE articles (
    id serial PRIMARY KEY, title text NOT NULL, content text,
    author_id int REFERENCES authors (id), category_id int REFERENCES categories (id));
INSERT INTO authors (name) VALUES ('Ada'), ('Grace');
INSERT INTO categories (name) VALUES ('Science'), ('History');
INSERT INTO articles (title, content, author_id, category_id) VALUES
    ('Engines', 'Analytical engines compute.', 1, 1),
    ('Compilers', 'Compilers translate code.', 2, 1),
    ('Looms', NULL, 1, 2);
CREATE TABLE notes (
    note_id uuid PRIMARY KEY, slug text UNIQUE NOT NULL, body text, raw bytea,
    price numeric(6, 2), created_at timestamptz, tags jsonb);
"""
NOTE_ID = uuid.UUID("6f1d8c8e-8f54-4c4e-9f43-0d4b2f1c1a2b")


class ArticleQueryGenerator(QueryGenerator):
    """Custom query generator for articles with joined author and category data."""

    def __init__(self, engine: Engine) -> None:
        super().__init__("articles", engine)
        self.metadata = MetaData()
        self.articles_table = None
        self.authors_table = None
        self.categories_table = None

    def _init_tables(self):
        """Initialize table references."""
        if self.articles_table is None:
            # Load tables with reflection
            self.articles_table = Table(self.table_name, self.metadata, autoload_with=self.engine)
            self.authors_table = Table("authors", self.metadata, autoload_with=self.engine)
            self.categories_table = Table("categories", self.metadata, autoload_with=self.engine)

    def all(self, offset: int, batch_size: int) -> Select:
        """Join articles with authors and categories."""
        self._init_tables()
        return (
            select(
                self.articles_table,
                self.authors_table.c.name.label("author_name"),
                self.categories_table.c.name.label("category_name"),
                # Create a rich text field combining multiple columns
                func.concat(
                    "Title: ", self.articles_table.c.title, "\n",
                    "Author: ", self.authors_table.c.name, "\n",
                    "Category: ", self.categories_table.c.name, "\n",
                    "Content: ", self.articles_table.c.content
                ).label("rich_text")
            )
            .join(
                self.authors_table,
                self.articles_table.c.author_id == self.authors_table.c.id
            )
            .join(
                self.categories_table,
                self.articles_table.c.category_id == self.categories_table.c.id
            )
            .order_by(self.articles_table.c.id)
            .limit(batch_size)
            .offset(offset)
        )  # fmt: skip


@pytest.fixture(scope="module")
def source_url(postgres_url: str) -> Iterator[str]:
    """A database of its own (the seed's generator names fixed tables: articles...)."""
    name = f"loaders_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO notes VALUES (%s, 'first', 'First note.', %s, 12.50,"
            " '2024-05-01T10:00:00Z', '[\"a\", \"b\"]'), (gen_random_uuid(), 'empty', NULL,"
            " NULL, NULL, NULL, NULL)",
            (NOTE_ID, b"\x00\x01"),
        )
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_seed_step_9_loads_items_by_id_with_the_custom_join(source_url: str) -> None:
    loader = PgsqlTextLoader(
        connection_string=source_url,
        query_generator=ArticleQueryGenerator,
        text_column="rich_text",
    )
    loaded_items = loader.load_items([PgsqlFileMeta(object_id="1"), PgsqlFileMeta(object_id="2")])
    assert [item.id for item in loaded_items] == ["1", "2"]
    assert loaded_items[0].data == (
        "Title: Engines\nAuthor: Ada\nCategory: Science\nContent: Analytical engines compute."
    )
    assert loaded_items[1].data.startswith("Title: Compilers\nAuthor: Grace\n")


def test_missing_ids_are_failures_not_exceptions(source_url: str) -> None:
    loader = PgsqlTextLoader(
        connection_string=source_url, query_generator=QueryGenerator, table_name="articles",
        text_column="content",
    )  # fmt: skip
    outcome = loader.load_items_with_failures(
        [PgsqlFileMeta(object_id=i) for i in ["2", "404", "not-a-number", "3", "01"]]
    )
    assert [(i.id, i.data) for i in outcome.items] == [
        ("2", "Compilers translate code."),
        ("01", "Analytical engines compute."),  # integer keys compare as numbers
    ]
    details = {f.object_id: f.detail for f in outcome.failures}
    assert details == {
        "404": "no row with id = '404'",
        "not-a-number": "no row with id = 'not-a-number'",
        "3": "column 'content' is NULL",
    }


def test_full_load_pages_through_the_custom_query(source_url: str) -> None:
    loader = PgsqlTextLoader(
        connection_string=source_url, query_generator=ArticleQueryGenerator, text_column="rich_text"
    )
    assert loader.total_count() == 3
    batches = list(loader.load_all(batch_size=2))
    assert [[item.id for item in batch] for batch in batches] == [["1", "2"], ["3"]]
    assert batches[1][0].data.endswith("Content: ")  # concat() skips the NULL content
    assert isinstance(batches[0][0].meta, PgsqlFileMeta)


def test_seed_step_5_loader_without_a_table_reports_what_to_change(source_url: str) -> None:
    loader = PgsqlTextLoader(
        connection_string=source_url,
        query_generator=QueryGenerator,  # Default query generator for single table
        text_column="content",  # Column containing text data
    )
    outcome = loader.load_items_with_failures([PgsqlFileMeta(object_id="1")])
    assert outcome.items == []
    assert "pass table_name=..." in outcome.failures[0].detail


def test_uuid_keys_bytea_text_and_dict_rows(source_url: str) -> None:
    text_loader = PgsqlTextLoader(
        connection_string=source_url, table_name="notes", id_column="note_id", text_column="raw"
    )
    items = text_loader.load_items([PgsqlFileMeta(object_id=str(NOTE_ID).upper())])
    assert items[0].data == "\x00\x01"
    dict_loader = PgsqlDictLoader(
        connection_string=source_url, table_name="notes", id_column="slug",
        columns=["slug", "price", "created_at", "tags", "note_id"],
    )  # fmt: skip
    outcome = dict_loader.load_items_with_failures(
        [PgsqlFileMeta(object_id="first"), PgsqlFileMeta(object_id="gone")]
    )
    assert outcome.items[0].data == {
        "slug": "first",
        "price": 12.5,
        "created_at": "2024-05-01T10:00:00Z",
        "tags": ["a", "b"],
        "note_id": str(NOTE_ID),
    }
    assert [f.object_id for f in outcome.failures] == ["gone"]
    dataset = dict_loader.load([PgsqlFileMeta(object_id="first")])
    assert dataset["item_id"] == ["first"]


def test_a_missing_table_or_column_fails_every_item_with_the_reason(source_url: str) -> None:
    no_table = PgsqlTextLoader(connection_string=source_url, table_name="nope", text_column="x")
    outcome = no_table.load_items_with_failures([PgsqlFileMeta(object_id="1")] * 2)
    assert [f.object_id for f in outcome.failures] == ["1", "1"]
    assert "misconfigured" in outcome.failures[0].detail and "nope" in outcome.failures[0].detail
    no_column = PgsqlTextLoader(
        connection_string=source_url, table_name="articles", text_column="x"
    )
    failure = no_column.load_items_with_failures([PgsqlFileMeta(object_id="1")]).failures[0]
    assert failure.detail.startswith("the query returns no column 'x' (columns: ['author_id'")


def test_an_unreachable_server_raises_storage_unavailable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/missing"
    loader = PgsqlTextLoader(connection_string=url, table_name="articles", text_column="content")
    with pytest.raises(StorageUnavailable, match="unreachable"):
        loader.load_items_with_failures([PgsqlFileMeta(object_id="1")])
