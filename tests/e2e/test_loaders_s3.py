"""S3 loaders against a real S3-compatible HTTP server (moto's server mode)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable
from embedding_studio.data_storage.loaders.cloud_storage.s3.item_meta import S3FileMeta
from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_json_loader import AwsS3JSONLoader
from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_loader import AwsS3DataLoader
from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_text_loader import AwsS3TextLoader
from embedding_studio.embedded.services import free_port

KEYS: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
OBJECTS = {
    "docs/a.txt": b"alpha text",
    "docs/b.txt": "beta text, ünïcode".encode(),
    "docs/folder/": b"",
    "docs/c.json": json.dumps({"title": "gamma", "year": 2024}).encode(),
    "docs/bad.json": b"{not json",
    "other/z.txt": b"\xff\xfe not utf-8",
}


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> str:
    name = f"loaders-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=name)
    for key, body in OBJECTS.items():
        client.put_object(Bucket=name, Key=key, Body=body)
    return name


def text_loader(endpoint: str, **kwargs: Any) -> AwsS3TextLoader:
    return AwsS3TextLoader(endpoint_url=endpoint, region_name="us-east-1", **KEYS, **kwargs)


def test_text_objects_load_by_bucket_and_key(s3_endpoint: str, bucket: str) -> None:
    loader = text_loader(s3_endpoint)
    outcome = loader.load_items_with_failures(
        [
            S3FileMeta(bucket=bucket, file="docs/a.txt"),
            S3FileMeta(bucket=bucket, file="docs/b.txt", object_id="doc-b", payload={"k": 1}),
        ]
    )
    assert [(i.id, i.data) for i in outcome.items] == [
        (f"{bucket}/docs/a.txt", "alpha text"),
        ("doc-b", "beta text, ünïcode"),
    ]
    assert outcome.items[1].meta.payload == {"k": 1}
    assert outcome.failures == []


def test_missing_objects_and_buckets_are_failures_of_those_items(
    s3_endpoint: str, bucket: str
) -> None:
    loader = text_loader(s3_endpoint)
    outcome = loader.load_items_with_failures(
        [
            S3FileMeta(bucket=bucket, file="docs/none.txt"),
            S3FileMeta(bucket=f"{bucket}-missing", file="docs/a.txt"),
            S3FileMeta(bucket=bucket, file="other/z.txt"),
            S3FileMeta(bucket=bucket, file="docs/a.txt"),
        ]
    )
    assert [i.id for i in outcome.items] == [f"{bucket}/docs/a.txt"]
    details = {f.object_id: f.detail for f in outcome.failures}
    assert details[f"{bucket}/docs/none.txt"].endswith("the object does not exist")
    assert details[f"{bucket}-missing/docs/a.txt"].endswith("the bucket does not exist")
    assert "not valid utf-8" in details[f"{bucket}/other/z.txt"]


def test_json_and_raw_objects(s3_endpoint: str, bucket: str) -> None:
    json_loader = AwsS3JSONLoader(endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    outcome = json_loader.load_items_with_failures(
        [
            S3FileMeta(bucket=bucket, file="docs/c.json"),
            S3FileMeta(bucket=bucket, file="docs/bad.json"),
        ]
    )
    assert outcome.items[0].data == {"title": "gamma", "year": 2024}
    assert "not valid JSON" in outcome.failures[0].detail
    raw = AwsS3DataLoader(endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    assert (
        raw.load_items([S3FileMeta(bucket=bucket, file="other/z.txt")])[0].data
        == OBJECTS["other/z.txt"]
    )


def test_objects_over_the_size_limit_are_refused(s3_endpoint: str, bucket: str) -> None:
    loader = text_loader(s3_endpoint, max_object_bytes=5)
    outcome = loader.load_items_with_failures([S3FileMeta(bucket=bucket, file="docs/a.txt")])
    assert "over the limit of 5" in outcome.failures[0].detail


def test_full_load_lists_the_prefix_in_key_order(s3_endpoint: str, bucket: str) -> None:
    loader = text_loader(s3_endpoint, bucket=bucket, prefix="docs/")
    assert loader.total_count() == 4  # the folder marker is not an item
    batches = list(loader.load_all(batch_size=2))
    ids = [[item.id for item in batch] for batch in batches]
    assert ids == [
        [f"{bucket}/docs/a.txt", f"{bucket}/docs/b.txt"],
        [f"{bucket}/docs/bad.json", f"{bucket}/docs/c.json"],
    ]
    with pytest.raises(InvalidRequest, match="bucket="):
        text_loader(s3_endpoint).total_count()
    with pytest.raises(InvalidRequest, match="bucket does not exist"):
        text_loader(s3_endpoint, bucket=f"{bucket}-missing").total_count()


def test_an_unreachable_endpoint_raises_storage_unavailable(bucket: str) -> None:
    loader = text_loader(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageUnavailable, match="unreachable"):
        loader.load_items_with_failures([S3FileMeta(bucket=bucket, file="docs/a.txt")])
