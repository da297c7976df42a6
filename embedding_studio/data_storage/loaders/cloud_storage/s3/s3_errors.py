"""What S3 errors mean to a loader: an item's failure, a bad setup, or an outage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from embedding_studio.core.errors import InvalidRequest, StorageUnavailable


class ObjectLoadError(Exception):
    """One object could not be fetched; the message says why."""


_ITEM_MESSAGES = {
    "NoSuchKey": "the object does not exist",
    "404": "the object does not exist",
    "NotFound": "the object does not exist",
    "NoSuchBucket": "the bucket does not exist",
    "AccessDenied": "access denied: check the loader's credentials and the bucket policy",
    "403": "access denied: check the loader's credentials and the bucket policy",
    "InvalidObjectState": "the object is archived and must be restored first",
}
_NO_CREDENTIALS = (
    "no AWS credentials: pass aws_access_key_id and aws_secret_access_key, set them in "
    "the environment, or use anonymous=True for a public bucket"
)


@contextmanager
def translated_s3_errors(listing: bool = False) -> Iterator[None]:
    """Turn boto errors into ours.

    An unreachable endpoint or a server-side error raises `StorageUnavailable`. Other
    errors raise `ObjectLoadError` (one object's failure) or, when `listing` a bucket
    for a full load, `InvalidRequest` (the loader's setup must change).
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
            raise StorageUnavailable(f"S3 failed: {code} {error.get('Message', '')}") from exc
        message = _ITEM_MESSAGES.get(code) or f"{code}: {error.get('Message', '')}".strip()
        raise _refusal(message, listing) from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        raise StorageUnavailable(f"S3 endpoint unreachable: {exc}") from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise _refusal(_NO_CREDENTIALS, listing) from exc
    except BotoCoreError as exc:
        raise _refusal(str(exc), listing) from exc


def _refusal(message: str, listing: bool) -> Exception:
    return (
        InvalidRequest(f"cannot list the bucket: {message}")
        if listing
        else ObjectLoadError(message)
    )
