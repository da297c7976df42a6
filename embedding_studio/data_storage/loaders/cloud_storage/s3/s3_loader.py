"""Load items from objects in S3 (or an S3-compatible service)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.cloud_storage.s3.credentials import (
    AwsS3Credentials,
    create_s3_client,
)
from embedding_studio.data_storage.loaders.cloud_storage.s3.item_meta import S3FileMeta
from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_errors import (
    ObjectLoadError,
    translated_s3_errors,
)
from embedding_studio.data_storage.loaders.content_decoding import (
    ContentDecodeError,
    ContentFormat,
    decode_content,
)
from embedding_studio.data_storage.loaders.data_loader import OutcomeDataLoader
from embedding_studio.data_storage.loaders.downloaded_item import DownloadedItem
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.data_storage.loaders.load_outcome import ItemLoadFailure, LoadOutcome

if TYPE_CHECKING:
    from datasets import Features

logger = logging.getLogger(__name__)


class AwsS3DataLoader(OutcomeDataLoader):
    """Loads S3 objects named by `S3FileMeta(bucket, file)`; data is the object's bytes.

    Subclasses decode the bytes: `AwsS3TextLoader` (str), `AwsS3JSONLoader` (dict).
    Objects are fetched in parallel (`max_workers`). A missing object or bucket, a denied
    access, an undecodable or too large object is a failure of that item; an unreachable
    endpoint raises `StorageUnavailable`. The client is created on first use.

    Full loads (`load_all`, `total_count`) list the objects under `prefix` in `bucket`.

    :param aws_access_key_id, aws_secret_access_key, aws_session_token: explicit keys;
        without them boto3's default chain applies (environment, config files, role).
    :param region_name: the bucket's region.
    :param endpoint_url: an S3-compatible service (MinIO, moto) instead of AWS.
    :param anonymous: unsigned requests, for public buckets.
    :param bucket, prefix: what a full load lists.
    :param max_object_bytes: larger objects are refused (a failure of that item).
    """

    item_meta_cls = S3FileMeta
    content_format = ContentFormat.raw

    def __init__(
        self,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        anonymous: bool = False,
        bucket: str | None = None,
        prefix: str = "",
        encoding: str = "utf-8",
        max_workers: int = 8,
        max_object_bytes: int | None = 64 * 1024 * 1024,
        features: Features | None = None,
    ) -> None:
        self.credentials = AwsS3Credentials.model_validate(
            {
                "aws_access_key_id": aws_access_key_id,
                "aws_secret_access_key": aws_secret_access_key,
                "aws_session_token": aws_session_token,
                "region_name": region_name,
                "endpoint_url": endpoint_url,
                "anonymous": anonymous,
            }
        )
        self.bucket = bucket
        self.prefix = prefix
        self.encoding = encoding
        self.max_workers = max(1, max_workers)
        self.max_object_bytes = max_object_bytes
        self.features = features
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = create_s3_client(self.credentials)
        return self._client

    def __getstate__(self) -> dict[str, Any]:
        # Copies (deepcopy, pickling) carry the configuration, not the live client.
        state = self.__dict__.copy()
        state.update(_client=None, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the client's connections; the next use creates a new client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def load_items_with_failures(self, items_data: list[ItemMeta]) -> LoadOutcome:
        metas = list({meta.id: meta for meta in reversed(items_data)}.values())[::-1]
        if not metas:
            return LoadOutcome()
        workers = min(self.max_workers, len(metas))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-load") as pool:
            results = list(pool.map(self._load_one, metas))
        outcome = LoadOutcome()
        for result in results:
            if isinstance(result, ItemLoadFailure):
                outcome.failures.append(result)
            else:
                outcome.items.append(result)
        return outcome

    def _load_one(self, meta: ItemMeta) -> DownloadedItem | ItemLoadFailure:
        if not isinstance(meta, S3FileMeta):
            return ItemLoadFailure.of(meta, "an S3 item needs `bucket` and `file`")
        try:
            raw = self._download(meta.bucket, meta.file)
            data = decode_content(raw, self.content_format, self.encoding)
        except (ObjectLoadError, ContentDecodeError) as exc:
            return ItemLoadFailure.of(meta, f"s3://{meta.bucket}/{meta.file}: {exc}")
        return DownloadedItem(id=meta.id, data=data, meta=meta)

    def _download(self, bucket: str, key: str) -> bytes:
        with translated_s3_errors():
            response = self.client.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength") or 0)
            if self.max_object_bytes is not None and size > self.max_object_bytes:
                response["Body"].close()
                raise ObjectLoadError(
                    f"object is {size} bytes, over the limit of {self.max_object_bytes}"
                )
            return bytes(response["Body"].read())

    def _listed_keys(self, page_size: int) -> Iterator[list[str]]:
        if not self.bucket:
            raise InvalidRequest(
                f"{type(self).__name__} lists objects only when given bucket=... (and prefix)"
            )
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": page_size}
        )
        with translated_s3_errors(listing=True):
            for page in pages:
                keys = [obj["Key"] for obj in page.get("Contents", [])]
                if keys := [key for key in keys if not key.endswith("/")]:
                    yield keys

    def total_count(self) -> int | None:
        """The number of objects under `prefix` in `bucket` (folder markers excluded)."""
        return sum(len(keys) for keys in self._listed_keys(page_size=1000))

    def load_all(self, batch_size: int) -> Iterator[list[DownloadedItem]]:
        """Every object under `prefix` in `bucket`, in key order, `batch_size` at a time.

        Objects that fail to load are logged and left out.
        """
        if batch_size <= 0:
            raise InvalidRequest(f"batch_size must be positive, got {batch_size}")
        for keys in self._listed_keys(page_size=min(batch_size, 1000)):
            for start in range(0, len(keys), batch_size):
                metas: list[ItemMeta] = [
                    S3FileMeta(bucket=self.bucket or "", file=key)
                    for key in keys[start : start + batch_size]
                ]
                outcome = self.load_items_with_failures(metas)
                for failure in outcome.failures:
                    logger.warning("full load skips %s: %s", failure.object_id, failure.detail)
                if outcome.items:
                    yield outcome.items
