"""A model store under an S3 prefix; botocore finds custom endpoints via AWS_ENDPOINT_URL_S3.

The client comes from botocore's session, as boto3's would: importing boto3 itself (and the
s3transfer it pulls in) would add to every cold start and nothing this store uses. As boto3's
default session, one session serves the process: it keeps the parsed S3 model, so the client
of a renewed store (after a SnapStart restore) is made without parsing it again.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bankreco.errors import ObjectExists, ObjectNotFound, StoreError
from bankreco.store.base import Blob, S3ClientOptions, check_key

_MISSING = {"NoSuchKey", "404", "NotFound"}
_EXISTS = {"PreconditionFailed", "ConditionalRequestConflict"}


@cache
def botocore_session() -> botocore.session.Session:
    """The process's one botocore session: it parses each service's model once, for every
    client made from it (the model store's, KMS's, the scorer's)."""
    return botocore.session.get_session()


class S3Store:
    """Keys live at `s3://bucket/prefix/<key>`."""

    def __init__(self, uri: str, options: S3ClientOptions | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        self.uri = uri.rstrip("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        options = options or S3ClientOptions()
        config = Config(
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
            retries={"total_max_attempts": options.max_attempts, "mode": "standard"},
        )
        owner = options.expected_bucket_owner
        self._owner: dict[str, str] = {"ExpectedBucketOwner": owner} if owner else {}
        self._client: Any = botocore_session().create_client("s3", config=config)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def read(self, key: str) -> Blob:
        blob = self._get(key, {})
        if blob is None:  # S3 answers 304 only to a conditional read
            raise StoreError(f"S3 answered 'not modified' to an unconditional read of {key}")
        return blob

    def read_if_changed(self, key: str, etag: str) -> Blob | None:
        return self._get(key, {"IfNoneMatch": etag})

    def _get(self, key: str, extra: dict[str, str]) -> Blob | None:
        try:
            response = self._client.get_object(
                Bucket=self.bucket, Key=self._key(key), **extra, **self._owner
            )
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
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, **self._owner
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def write_new(self, key: str, data: bytes) -> None:
        """A conditional put (If-None-Match: *): S3 refuses it if the key exists (412) or
        another conditional write of it is under way (409)."""
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*", **self._owner
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _EXISTS:
                raise ObjectExists(f"{key} already exists in {self.uri}") from exc
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/")) + "/", **self._owner
            )
            for page in pages:
                keys.extend(obj["Key"].removeprefix(root) for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot list {prefix} in {self.uri}: {exc}") from exc
        return sorted(keys)
