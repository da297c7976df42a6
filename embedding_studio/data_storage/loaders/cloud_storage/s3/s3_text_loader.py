"""Load S3 objects as text."""

from __future__ import annotations

from embedding_studio.data_storage.loaders.cloud_storage.s3.s3_loader import AwsS3DataLoader
from embedding_studio.data_storage.loaders.content_decoding import ContentFormat


class AwsS3TextLoader(AwsS3DataLoader):
    """`AwsS3DataLoader` whose item data is the object decoded as text (`encoding`).

    An object that is not valid text in that encoding is a failure of that item.
    """

    content_format = ContentFormat.text
