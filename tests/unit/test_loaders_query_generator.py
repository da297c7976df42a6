"""Query generators build bound, validated SQL and touch no database until used."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    Text,
    create_engine,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_text_loader import PgsqlTextLoader
from embedding_studio.data_storage.loaders.sql.pgsql.query_generator_factory import (
    build_query_generator,
)
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator
from embedding_studio.data_storage.loaders.sql.row_ids import canonical_row_id, id_matches

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"


@pytest.fixture
def engine() -> Engine:
    return create_engine(UNREACHABLE)


class BooksQueryGenerator(QueryGenerator):
    """Overrides `all` only, over a table defined in code (no reflection)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__("books", engine)
        self.books = Table("books", self.metadata, Column("id", Integer), Column("title", Text))

    def all(self, offset: int, batch_size: int) -> Select:
        return (
            select(self.books, (self.books.c.title + "!").label("shout"))
            .order_by(self.books.c.id)
            .limit(batch_size)
            .offset(offset)
        )


def sql(statement: Select) -> str:
    return str(statement.compile(dialect=postgresql.dialect()))


def test_construction_touches_no_database(engine: Engine) -> None:
    QueryGenerator("articles", engine)
    BooksQueryGenerator(engine)
    loader = PgsqlTextLoader(
        connection_string=UNREACHABLE, query_generator=QueryGenerator, text_column="content"
    )
    assert loader._engine is None


@pytest.mark.parametrize("name", ["docs; DROP TABLE x", "a.b", "", "1abc", 'x"y', "a" * 64])
def test_table_and_column_names_are_validated(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid"):
        QueryGenerator(name, engine)
    with pytest.raises(InvalidRequest, match="invalid"):
        QueryGenerator("docs", engine, id_column=name)


def test_fetch_all_and_count_derive_from_all_with_bound_ids(engine: Engine) -> None:
    generator = BooksQueryGenerator(engine)
    fetch = sql(generator.fetch_all(["1", "x'; DROP TABLE books; --"]))
    assert "shout" in fetch  # the computed column of `all` is kept
    assert "LIMIT" not in fetch and "OFFSET" not in fetch
    assert "DROP" not in fetch  # ids are bound parameters
    assert "source.id IN (__[POSTCOMPILE_id_1])" in fetch
    assert "count(*)" in sql(generator.count())
    assert "source.id IN" in sql(generator.one("1"))


def test_fetch_all_needs_the_id_column_in_the_query(engine: Engine) -> None:
    generator = BooksQueryGenerator(engine)
    generator.id_column = "isbn"
    with pytest.raises(InvalidRequest, match="no column 'isbn'"):
        generator.fetch_all(["1"])


def test_ids_are_converted_to_the_key_type() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("i", Integer),
        Column("u", UUID(as_uuid=True)),
        Column("s", String),
        Column("n", Numeric),
    )
    ints = id_matches(table.c.i, ["1", "01", "x", "99999999999999999999"]).right.value
    assert ints == [1, 1]
    uid = "6f1d8c8e-8f54-4c4e-9f43-0d4b2f1c1a2b"
    assert [str(u) for u in id_matches(table.c.u, [uid, "nope"]).right.value] == [uid]
    assert id_matches(table.c.s, ["01"]).right.value == ["01"]
    assert "CAST(t.n AS TEXT)" in str(id_matches(table.c.n, ["1.5"]).compile())
    assert canonical_row_id("007") == "7"
    assert canonical_row_id(uid.upper()) == uid
    assert canonical_row_id("doc-1") == "doc-1"


def test_generators_are_built_with_or_without_a_table_name(engine: Engine) -> None:
    plain = build_query_generator(QueryGenerator, engine, table_name="docs", id_column="doc_id")
    assert (plain.table_name, plain.id_column) == ("docs", "doc_id")
    own = build_query_generator(BooksQueryGenerator, engine)
    assert own.table_name == "books"
    built = build_query_generator(lambda engine: QueryGenerator("notes", engine), engine)
    assert built.table_name == "notes"
    with pytest.raises(InvalidRequest, match="needs a table"):
        build_query_generator(QueryGenerator, engine)
    with pytest.raises(InvalidRequest, match="names its own table"):
        build_query_generator(BooksQueryGenerator, engine, table_name="docs")


def test_loaders_can_be_copied_and_pickled_without_connecting() -> None:
    import copy
    import pickle

    from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_text_loader import (
        AwsS3TextLoader,
    )

    pg = PgsqlTextLoader(connection_string=UNREACHABLE, table_name="docs", text_column="body")
    _ = pg.engine  # a live engine is not copied
    pg_copy = pickle.loads(pickle.dumps(pg))
    assert (pg_copy._engine, pg_copy.table_name, pg_copy.text_column) == (None, "docs", "body")
    s3 = AwsS3TextLoader(endpoint_url="http://127.0.0.1:9", aws_access_key_id="k",
                         aws_secret_access_key="s", region_name="us-east-1")  # fmt: skip
    _ = s3.client
    s3_copy = copy.deepcopy(s3)
    assert s3_copy._client is None
    assert s3_copy.credentials.aws_secret_access_key is not None
    assert s3_copy.credentials.aws_secret_access_key.get_secret_value() == "s"
