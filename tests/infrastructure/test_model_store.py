"""infra/model-store.yaml: the bucket's protections, and what each principal can do to the
models, read from the bucket policy and each principal's own policies (the publisher's role:
test_publisher.py)."""

from __future__ import annotations

import pytest

from tests.infrastructure.cfn import ACCOUNT
from tests.infrastructure.stacks import ADMIN_ROLE, BUCKET, model_store, s3_allows

can = s3_allows

VERSION = "models/alphabank/versions/v20261125T101500123Z-1a2b3c4d/model.forest.npz"
POINTER = "models/alphabank/current.json"
OTHER_BANK = "models/betabank/versions/v1/model.forest.npz"


def test_bucket_encryption_versioning_lock_and_ownership() -> None:
    store = model_store(RetentionDays="120")
    bucket = store.properties("ModelBucket")
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "ServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": store.outputs["BucketKeyArn"],
        },
        "BucketKeyEnabled": True,
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["ObjectLockEnabled"] is True
    lock = bucket["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": "120"}
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert store.properties("BucketKey")["EnableKeyRotation"] is True


def test_bucket_and_keys_outlive_the_stack() -> None:
    for name in ("ModelBucket", "BucketKey"):
        resource = model_store().template["Resources"][name]
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name


def test_the_write_deny_names_the_publisher_by_principal_arn() -> None:
    store = model_store()
    [deny] = [
        s
        for s in store.properties("ModelBucketPolicy")["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and "s3:PutObject" in s["Action"]
        and s["Principal"] == "*"
        and "ArnNotEquals" in s.get("Condition", {})
    ]
    assert deny["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [store.outputs["PublisherRoleArn"]]}
    }


@pytest.mark.parametrize(
    ("who", "action", "key", "allowed"),
    [
        ("publisher", "s3:PutObject", VERSION, True),
        ("publisher", "s3:PutObject", POINTER, True),
        ("publisher", "s3:GetObject", VERSION, True),
        ("publisher", "s3:PutObject", "elsewhere/x", False),
        ("publisher", "s3:DeleteObject", POINTER, False),
        ("publisher", "s3:DeleteObjectVersion", VERSION, False),
        ("publisher", "s3:BypassGovernanceRetention", VERSION, False),
        ("publisher", "s3:PutObjectRetention", VERSION, False),
        ("publisher", "s3:PutBucketPolicy", "", False),
        ("account admin", "s3:GetObject", VERSION, True),
        ("account admin", "s3:PutObject", POINTER, False),
        ("account admin", "s3:DeleteObject", POINTER, False),
        ("account admin", "s3:DeleteObjectVersion", VERSION, False),
        ("account admin", "s3:BypassGovernanceRetention", VERSION, False),
        ("function", "s3:GetObject", VERSION, True),
        ("function", "s3:GetObject", OTHER_BANK, False),
        ("function", "s3:PutObject", POINTER, False),
        ("function", "s3:DeleteObject", POINTER, False),
    ],
)
def test_who_can_do_what(who: str, action: str, key: str, allowed: bool) -> None:
    assert can(who, action, key) is allowed


def test_nothing_crosses_without_tls() -> None:
    assert not can("publisher", "s3:PutObject", VERSION, **{"aws:SecureTransport": "false"})
    assert not can("function", "s3:GetObject", VERSION, **{"aws:SecureTransport": "false"})


def test_objects_are_written_with_the_bucket_key_only() -> None:
    key_id = "s3:x-amz-server-side-encryption-aws-kms-key-id"
    other_key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/attacker"
    assert not can("publisher", "s3:PutObject", VERSION, **{key_id: other_key})
    assert not can(
        "publisher", "s3:PutObject", VERSION, **{"s3:x-amz-server-side-encryption": "AES256"}
    )
    assert can(
        "publisher", "s3:PutObject", VERSION, **{key_id: model_store().outputs["BucketKeyArn"]}
    )


def test_the_admin_role_alone_deletes_and_reconfigures() -> None:
    store = model_store(AdminRoleArn=ADMIN_ROLE)
    assert can("admin role", "s3:DeleteObjectVersion", VERSION, store)
    assert can("admin role", "s3:BypassGovernanceRetention", VERSION, store)
    assert can("admin role", "s3:PutBucketPolicy", "", store)
    assert not can("account admin", "s3:DeleteObjectVersion", VERSION, store)
    assert not can("account admin", "s3:PutBucketPolicy", "", store)
    assert not can("account admin", "s3:PutBucketObjectLockConfiguration", "", store)
    assert not can("publisher", "s3:DeleteObject", POINTER, store)
    # Without an admin role, nobody deletes through S3, and IAM alone decides configuration.
    assert not can("admin role", "s3:DeleteObjectVersion", VERSION)
    assert can("account admin", "s3:PutBucketPolicy", "")


def test_outputs_are_exported_for_the_bank_stacks() -> None:
    exports = model_store().exports
    for name in ("BucketName", "BucketArn", "BucketKeyArn", "PublisherRoleArn", "BucketOwner"):
        assert f"bankreco-model-store-{name}" in exports, name
