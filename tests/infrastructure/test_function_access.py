"""template.yaml: what the bank's function may read - its own bank's models, from the bucket its
owner account holds, decrypted through S3, and the public half of the bank's signing key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.cfn import ACCOUNT, Stack
from tests.infrastructure.iam import Call, as_list, same_account_allows
from tests.infrastructure.stacks import (
    ANOTHER_ACCOUNT,
    BUCKET,
    bank_stack,
    function_policies,
    model_store,
    signing_key,
)

OBJECTS = f"arn:aws:s3:::{BUCKET}/models/alphabank/*"


def may(action: str, resource: str, stack: Stack | None = None, /, **context: str) -> bool:
    """The function's own policies allow the call (the bucket and key policies aside)."""
    identity = function_policies(stack or bank_stack())
    return same_account_allows(Call(action, resource, context=context), identity)


def statement(sid: str) -> dict[str, Any]:
    found: dict[str, Any]
    [found] = [
        s for p in function_policies(bank_stack()) for s in p["Statement"] if s["Sid"] == sid
    ]
    return found


def test_s3_statements_read_only_the_banks_prefix_of_the_owners_bucket() -> None:
    s3 = [
        s
        for p in function_policies(bank_stack())
        for s in p["Statement"]
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]
    assert sorted(a for s in s3 for a in as_list(s["Action"])) == ["s3:GetObject", "s3:ListBucket"]
    owner = {"StringEquals": {"s3:ResourceAccount": ACCOUNT}}
    assert statement("ReadBankModels") == {
        "Sid": "ReadBankModels",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": OBJECTS,
        "Condition": owner,
    }
    assert statement("ListBankModels")["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert statement("ListBankModels")["Condition"] == owner | {
        "StringLike": {"s3:prefix": "models/alphabank/*"}
    }


@pytest.mark.parametrize(
    ("action", "key", "owner", "allowed"),
    [
        ("s3:GetObject", "models/alphabank/current.json", ACCOUNT, True),
        ("s3:GetObject", "models/alphabank/versions/v1/manifest.json", ACCOUNT, True),
        ("s3:GetObject", "models/betabank/current.json", ACCOUNT, False),
        ("s3:GetObject", "models/alphabank-2/current.json", ACCOUNT, False),
        ("s3:GetObject", "models/alphabank/current.json", ANOTHER_ACCOUNT, False),
        ("s3:PutObject", "models/alphabank/current.json", ACCOUNT, False),
        ("s3:DeleteObject", "models/alphabank/current.json", ACCOUNT, False),
    ],
)
def test_object_access(action: str, key: str, owner: str, allowed: bool) -> None:
    resource = f"arn:aws:s3:::{BUCKET}/{key}"
    assert may(action, resource, **{"s3:ResourceAccount": owner}) is allowed


def test_listing() -> None:
    bucket = f"arn:aws:s3:::{BUCKET}"
    own = {"s3:ResourceAccount": ACCOUNT}
    assert may("s3:ListBucket", bucket, **own, **{"s3:prefix": "models/alphabank/versions/"})
    assert not may("s3:ListBucket", bucket, **own, **{"s3:prefix": "models/betabank/"})
    assert not may("s3:ListBucket", bucket, **own)
    other = {"s3:ResourceAccount": ANOTHER_ACCOUNT, "s3:prefix": "models/alphabank/"}
    assert not may("s3:ListBucket", bucket, **other)


def test_the_bucket_owner_is_a_parameter() -> None:
    stack = bank_stack(ModelBucketOwner=ANOTHER_ACCOUNT)
    resource = f"arn:aws:s3:::{BUCKET}/models/alphabank/current.json"
    assert may("s3:GetObject", resource, stack, **{"s3:ResourceAccount": ANOTHER_ACCOUNT})
    assert not may("s3:GetObject", resource, stack, **{"s3:ResourceAccount": ACCOUNT})
    env = stack.properties("PredictFunction")["Environment"]["Variables"]
    assert env["MODEL_BUCKET_OWNER"] == ANOTHER_ACCOUNT
    default_env = bank_stack().properties("PredictFunction")["Environment"]["Variables"]
    assert default_env["MODEL_BUCKET_OWNER"] == ACCOUNT


def test_bucket_key_decrypts_through_s3_only() -> None:
    key = model_store().outputs["BucketKeyArn"]
    bucket_context = {
        "kms:ViaService": "s3.eu-west-1.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}",
    }
    assert may("kms:Decrypt", key, **bucket_context)
    assert not may("kms:Decrypt", key, **{"kms:EncryptionContext:aws:s3:arn": BUCKET})
    other_bucket = bucket_context | {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::other"}
    assert not may("kms:Decrypt", key, **other_bucket)
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        assert not may(action, key, **bucket_context), action
    assert not may("kms:Decrypt", key, bank_stack(ModelBucketKeyArn=""), **bucket_context)


def test_signing_key_gives_the_public_key_only() -> None:
    key = signing_key().outputs["KeyArn"]
    assert may("kms:GetPublicKey", key)
    for action in ("kms:Sign", "kms:Verify", "kms:CreateGrant", "kms:Decrypt"):
        assert not may(action, key), action
    other = signing_key("betabank").outputs["KeyArn"]
    assert not may("kms:GetPublicKey", other)
    no_key = bank_stack(SigningKeyArn="", RequireSignature="false")
    assert not may("kms:GetPublicKey", key, no_key)


def test_no_action_or_resource_is_a_wildcard_beyond_the_banks_prefix() -> None:
    for policy in function_policies(bank_stack()):
        for s in policy["Statement"]:
            assert s["Effect"] == "Allow"
            assert not [a for a in as_list(s["Action"]) if "*" in a], s
            assert [r for r in as_list(s["Resource"]) if "*" in r] in ([], [OBJECTS]), s
