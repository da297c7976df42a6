"""Load S3 objects holding one JSON object each."""

from __future__ import annotations

from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_loader import AwsS3DataLoader
from embedding_studio.data_storage.loaders.content_decoding import ContentFormat


class AwsS3JSONLoader(AwsS3DataLoader):
    """`AwsS3DataLoader` whose item data is the object parsed as a JSON object (a dict).

    An object that is not a valid JSON object is a failure of that item.
    """

    content_format = ContentFormat.json
