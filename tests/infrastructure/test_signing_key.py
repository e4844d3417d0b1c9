"""infra/bank-signing-key.yaml: an ECDSA P-256 key per bank that only the publisher signs with
and only the bank's function (and the publisher) reads the public half of."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.cfn import ACCOUNT
from tests.infrastructure.iam import Call, kms_allows
from tests.infrastructure.stacks import (
    ACCOUNT_ADMIN,
    EVERYTHING,
    bank_stack,
    function_policies,
    function_role,
    model_store,
    signing_key,
)

BANK_TAGS = {"aws:PrincipalTag/Application": "bankreco", "aws:PrincipalTag/BankId": "alphabank"}


def key_policy() -> dict[str, Any]:
    policy: dict[str, Any] = signing_key().properties("SigningKey")["KeyPolicy"]
    return policy


def allowed(action: str, principal: str, identity: list[dict[str, Any]], **context: str) -> bool:
    key = signing_key().outputs["KeyArn"]
    return kms_allows(Call(action, key, ("AWS", principal), context), key_policy(), identity)


def test_the_key_is_asymmetric_p256_for_signing_and_kept() -> None:
    stack = signing_key()
    props = stack.properties("SigningKey")
    assert props["KeySpec"] == "ECC_NIST_P256"
    assert props["KeyUsage"] == "SIGN_VERIFY"
    resource = stack.template["Resources"]["SigningKey"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def test_only_the_publisher_signs() -> None:
    publisher = model_store().outputs["PublisherRoleArn"]
    assert allowed("kms:Sign", publisher, [], **{"kms:SigningAlgorithm": "ECDSA_SHA_256"})
    assert allowed("kms:GetPublicKey", publisher, [])
    assert not allowed("kms:Sign", publisher, [], **{"kms:SigningAlgorithm": "ECDSA_SHA_512"})
    # An account administrator, even with every IAM permission, cannot sign or grant signing.
    assert not allowed("kms:Sign", ACCOUNT_ADMIN, [EVERYTHING])
    assert not allowed("kms:CreateGrant", ACCOUNT_ADMIN, [EVERYTHING])
    # ... but administers the key (a key policy change is the visible way around).
    for action in ("kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"):
        assert allowed(action, ACCOUNT_ADMIN, [EVERYTHING]), action


def test_the_banks_function_reads_the_public_key_and_nothing_else() -> None:
    role, identity = function_role(), function_policies(bank_stack())
    assert allowed("kms:GetPublicKey", role, identity, **BANK_TAGS)
    for action in ("kms:Sign", "kms:Verify", "kms:Decrypt", "kms:CreateGrant"):
        assert not allowed(action, role, identity, **BANK_TAGS), action
    # Another bank's function role, with the same IAM policy, is refused by the key policy.
    other_bank = BANK_TAGS | {"aws:PrincipalTag/BankId": "betabank"}
    assert not allowed("kms:GetPublicKey", role, identity, **other_bank)


def test_the_function_role_carries_the_tags_the_key_policy_checks() -> None:
    """SAM tags the function's role with the function's tags (Globals.Function.Tags)."""
    stack = bank_stack()
    tags = stack.resolve(stack.template["Globals"]["Function"]["Tags"])
    assert {f"aws:PrincipalTag/{k}": v for k, v in tags.items()} == BANK_TAGS


@pytest.mark.parametrize(("active", "aliases"), [("true", 2), ("false", 1)])
def test_aliases(active: str, aliases: int) -> None:
    stack = signing_key(Generation="3", Active=active)
    names = [
        r["Properties"]["AliasName"]
        for r in stack.resources.values()
        if r["Type"] == "AWS::KMS::Alias"
    ]
    expected = ["alias/bankreco/alphabank/signing-3", "alias/bankreco/alphabank/signing"]
    assert names == expected[:aliases]
    assert stack.outputs["KeyArn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
