"""How an S3 loader authenticates and which endpoint it talks to."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AwsS3Credentials(BaseModel):
    """Credentials and endpoint of an S3 (or S3-compatible: MinIO, moto...) service.

    With `aws_access_key_id` and `aws_secret_access_key` those keys are used; with
    `anonymous=True` requests are unsigned (public buckets); otherwise boto3's default
    chain applies (environment variables, shared config files, instance role).
    `endpoint_url` points at a service other than AWS.
    """

    model_config = ConfigDict(extra="forbid")

    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    region_name: str | None = None
    endpoint_url: str | None = None
    anonymous: bool = False
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(3, ge=1)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `boto3.client("s3", ...)`, keys included when given."""
        kwargs: dict[str, Any] = {
            "region_name": self.region_name,
            "endpoint_url": self.endpoint_url,
        }
        if self.anonymous:
            return kwargs
        if self.aws_access_key_id and self.aws_secret_access_key:
            kwargs["aws_access_key_id"] = self.aws_access_key_id
            kwargs["aws_secret_access_key"] = self.aws_secret_access_key.get_secret_value()
            if self.aws_session_token:
                kwargs["aws_session_token"] = self.aws_session_token.get_secret_value()
        return kwargs


def create_s3_client(credentials: AwsS3Credentials) -> Any:
    """A boto3 S3 client (thread-safe) for these credentials; opens no connection yet."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        connect_timeout=credentials.connect_timeout_s,
        read_timeout=credentials.read_timeout_s,
        retries={"max_attempts": credentials.max_attempts, "mode": "standard"},
        signature_version=UNSIGNED if credentials.anonymous else None,
    )
    return boto3.session.Session().client("s3", config=config, **credentials.client_kwargs())
