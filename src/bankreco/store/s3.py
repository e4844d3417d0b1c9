"""A model store under an S3 prefix; botocore finds custom endpoints via AWS_ENDPOINT_URL_S3.

The client comes from botocore's session, as boto3's would: importing boto3 itself (and the
s3transfer it pulls in) would add to every cold start and nothing this store uses. As boto3's
default session, one session serves the process: it keeps the parsed S3 model, so the client
of a renewed store (after a SnapStart restore) is made without parsing it again.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bankreco.errors import ObjectNotFound, StoreError
from bankreco.store.base import Blob

if TYPE_CHECKING:
    from bankreco.settings import Settings

_MISSING = {"NoSuchKey", "404", "NotFound"}


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


class S3Store:
    """Keys live at `s3://bucket/prefix/<key>`."""

    def __init__(self, uri: str, settings: Settings | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        self.uri = uri.rstrip("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = Config(
            connect_timeout=settings.s3_connect_timeout if settings else 2.0,
            read_timeout=settings.s3_read_timeout if settings else 10.0,
            retries={
                "max_attempts": settings.s3_max_attempts if settings else 3,
                "mode": "standard",
            },
        )
        self._client: Any = _session().create_client("s3", config=config)

    def _key(self, key: str) -> str:
        if not key or any(p in {"", ".", ".."} for p in key.split("/")):
            raise ValueError(f"invalid key: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def read(self, key: str, if_none_match: str | None = None) -> Blob | None:
        extra = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key), **extra)
            data: bytes = response["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 or error.get("Code") == "304":
                return None
            if error.get("Code") in _MISSING or status == 404:
                raise ObjectNotFound(f"{key} not found in {self.uri}") from exc
            raise StoreError(
                f"S3 refused {key}: {error.get('Code')} {error.get('Message')}"
            ) from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 unreachable reading {key}: {exc}") from exc
        return Blob(data, str(response.get("ETag", "")))

    def write(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/")) + "/"
            )
            for page in pages:
                keys.extend(obj["Key"].removeprefix(root) for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot list {prefix} in {self.uri}: {exc}") from exc
        return sorted(keys)
