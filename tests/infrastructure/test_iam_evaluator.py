"""tests/infrastructure/iam.py decides as IAM does, on the cases the policy tests rely on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infrastructure.iam import (
    Call,
    condition_holds,
    kms_allows,
    same_account_allows,
    trust_allows,
    wildcard,
)

ROLE = "arn:aws:iam::111122223333:role/reader"
OTHER = "arn:aws:iam::444455556666:role/reader"
OBJECT = "arn:aws:s3:::bucket/models/a/current.json"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


READ = policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*"})


def test_wildcards() -> None:
    assert wildcard("s3:Get*", "s3:GetObject")
    assert wildcard("S3:get*", "s3:GetObject", ignore_case=True)
    assert not wildcard("S3:get*", "s3:GetObject")
    assert wildcard("models/a/*", "models/a/v1/x")
    assert not wildcard("models/a/*", "models/ab/x")
    assert wildcard("v?", "v1")
    assert not wildcard("v?", "v10")


@pytest.mark.parametrize(
    ("operator", "wanted", "keys", "holds"),
    [
        ("StringEquals", "a", {"k": "a"}, True),
        ("StringEquals", "a", {}, False),
        ("StringEqualsIfExists", "a", {}, True),
        ("StringNotEquals", "a", {}, True),  # a negated test passes on a missing key
        ("StringNotEquals", ["a", "b"], {"k": "b"}, False),
        ("StringNotEqualsIfExists", "a", {"k": "c"}, True),
        ("StringNotEqualsIfExists", "a", {}, True),  # so a Deny with it applies: use Null
        ("StringLike", "repo:o/r:*", {"k": "repo:o/r:ref:refs/heads/x"}, True),
        ("StringLike", "repo:o/r:*", {"k": "repo:o/other:ref"}, False),
        ("ArnNotEquals", [ROLE], {"k": ROLE}, False),
        ("ArnNotEquals", [ROLE], {"k": OTHER}, True),
        ("Bool", "false", {"k": "False"}, True),
        ("Bool", "false", {}, False),
        ("Null", "true", {}, True),
        ("Null", "false", {}, False),
    ],
)
def test_condition_operators(operator: str, wanted: Any, keys: dict[str, str], holds: bool) -> None:
    assert condition_holds(operator, "k", wanted, keys) is holds


def test_explicit_deny_wins_over_allows() -> None:
    deny = policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}
    )
    call = Call("s3:GetObject", OBJECT, ("AWS", ROLE))
    assert same_account_allows(call, [READ])
    assert not same_account_allows(call, [READ], deny)


def test_a_call_needs_an_allow() -> None:
    assert not same_account_allows(Call("s3:PutObject", OBJECT, ("AWS", ROLE)), [READ])
    assert not same_account_allows(Call("s3:GetObject", "arn:aws:s3:::other/x"), [READ])


def test_resource_policy_allow_names_the_principal() -> None:
    grant = policy(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "*"}
    )
    assert same_account_allows(Call("s3:GetObject", OBJECT, ("AWS", ROLE)), [], grant)
    assert not same_account_allows(Call("s3:GetObject", OBJECT, ("AWS", OTHER)), [], grant)


def test_principal_keys_come_from_the_principal() -> None:
    keys = Call("s3:GetObject", OBJECT, ("AWS", OTHER)).keys()
    assert keys["aws:PrincipalArn"] == OTHER
    assert keys["aws:PrincipalAccount"] == "444455556666"
    assert keys["aws:SecureTransport"] == "true"


def test_kms_needs_the_key_policy() -> None:
    everything = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})
    root = {"AWS": "arn:aws:iam::111122223333:root"}
    delegating = policy({"Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"})
    naming = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Sign"})
    sign = Call("kms:Sign", "arn:aws:kms:eu-west-1:111122223333:key/k", ("AWS", ROLE))
    assert not kms_allows(sign, policy(), [everything])  # IAM alone is not enough
    assert not kms_allows(sign, delegating)  # delegated to IAM, which grants nothing
    assert kms_allows(sign, delegating, [everything])
    assert kms_allows(sign, naming)  # named by the key policy: no IAM policy needed
    assert not kms_allows(Call("kms:Sign", sign.resource, ("AWS", OTHER)), delegating, [everything])


def test_trust_names_the_federated_principal() -> None:
    provider = "arn:aws:iam::111122223333:oidc-provider/issuer.example"
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"issuer.example:aud": "sts.amazonaws.com"}},
        }
    )
    ok = {"issuer.example:aud": "sts.amazonaws.com"}
    assume = "sts:AssumeRoleWithWebIdentity"
    assert trust_allows(Call(assume, "*", ("Federated", provider), ok), trust)
    assert not trust_allows(Call(assume, "*", ("Federated", provider), {}), trust)
    assert not trust_allows(Call(assume, "*", ("AWS", ROLE), ok), trust)
