"""One aggregated loader over PostgreSQL, S3 and inline items, as an upsert request uses it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest

from embedding_studio.data_storage.loaders.aggregated_data_loader import AggregatedDataLoader
from embedding_studio.data_storage.loaders.cloud_storage.s3.item_meta import S3FileMeta
from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_text_loader import AwsS3TextLoader
from embedding_studio.data_storage.loaders.inline.inline_loader import InlineDataLoader
from embedding_studio.data_storage.loaders.sql.pgsql.item_meta import PgsqlFileMeta
from embedding_studio.data_storage.loaders.sql.pgsql.pgsql_text_loader import PgsqlTextLoader

SUFFIX = uuid.uuid4().hex[:10]
TABLE = f"agg_docs_{SUFFIX}"
BUCKET = f"agg-{SUFFIX}"
KEYS: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def loader(postgres_url: str, s3_endpoint: str) -> Iterator[AggregatedDataLoader]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{TABLE}" (id bigint PRIMARY KEY, body text)')  # fixed name
        conn.execute(f'INSERT INTO "{TABLE}" VALUES (1, %s), (2, %s)', ("row one", "row two"))
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k/one.txt", Body=b"object one")
    pg_loader = PgsqlTextLoader(
        connection_string=postgres_url, table_name=TABLE, text_column="body"
    )
    yield AggregatedDataLoader(
        {
            "pg": pg_loader,
            "s3": AwsS3TextLoader(endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS),
            "inline": InlineDataLoader(),
        }
    )
    pg_loader.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP TABLE "{TABLE}"')


def test_request_items_are_routed_to_each_source(loader: AggregatedDataLoader) -> None:
    request = [
        {"source_name": "pg", "object_id": "2", "payload": {"kind": "row"}},
        {"source_name": "s3", "bucket": BUCKET, "file": "k/one.txt"},
        {"source_name": "inline", "object_id": "i-1", "data": {"title": "inline"}},
        {"source_name": "pg", "object_id": "99"},
        {"source_name": "s3", "bucket": BUCKET, "file": "k/none.txt"},
        {"source_name": "ftp", "object_id": "f-1"},
        {"source_name": "s3", "object_id": "s3-no-key"},
    ]
    metas = [loader.item_meta_cls.model_validate(item) for item in request]
    outcome = loader.load_items_with_failures(metas)

    assert [(i.id, i.data) for i in outcome.items] == [
        ("2", "row two"),
        (f"{BUCKET}/k/one.txt", "object one"),
        ("i-1", {"title": "inline"}),
    ]
    assert isinstance(outcome.items[0].meta, PgsqlFileMeta)
    assert outcome.items[0].meta.payload == {"kind": "row"}
    assert isinstance(outcome.items[1].meta, S3FileMeta)
    details = {f.object_id: f.detail for f in outcome.failures}
    assert set(details) == {"99", f"{BUCKET}/k/none.txt", "f-1", "s3-no-key"}
    assert details["99"] == "no row with id = '99'"
    assert details["f-1"] == ("unknown source 'ftp'; known sources: ['inline', 'pg', 's3']")
    assert "bucket: Field required" in details["s3-no-key"]


def test_seed_api_load_items_skips_failures(loader: AggregatedDataLoader) -> None:
    items = loader.load_items(
        [
            PgsqlFileMeta(object_id="1", source_name="pg"),
            PgsqlFileMeta(object_id="1", source_name="nowhere"),
        ]
    )
    assert [(item.id, item.data) for item in items] == [("1", "row one")]
