"""infra/model-store.yaml: the publisher role - assumed only by the CI job named by the OIDC
parameters, writing only under the model prefix, with the bucket's key only through S3."""

from __future__ import annotations

import pytest

from tests.infrastructure.cfn import ACCOUNT, ParameterError, Stack, policy_document
from tests.infrastructure.iam import Call, as_list, same_account_allows, trust_allows
from tests.infrastructure.stacks import (
    ACCOUNT_ADMIN,
    SUBJECT,
    model_store,
    publisher_policy,
    s3_allows,
)

ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
CLAIMS = {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": SUBJECT}
can = s3_allows


def test_publisher_lists_and_encrypts_within_its_scope() -> None:
    assert can("publisher", "s3:ListBucket", "", **{"s3:prefix": "models/alphabank/versions/"})
    assert not can("publisher", "s3:ListBucket", "", **{"s3:prefix": "elsewhere/"})
    assert not can("publisher", "s3:ListBucket", "")
    store = model_store()
    key = store.outputs["BucketKeyArn"]
    publisher = ("AWS", store.outputs["PublisherRoleArn"])
    identity = [publisher_policy(store)]
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    for action in ("kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"):
        assert same_account_allows(Call(action, key, publisher, via_s3), identity), action
        assert not same_account_allows(Call(action, key, publisher), identity), action
    other = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/other"
    assert not same_account_allows(Call("kms:Decrypt", other, publisher, via_s3), identity)


def test_publisher_policy_has_no_wildcard_or_delete_actions() -> None:
    actions = [
        a for s in publisher_policy(model_store())["Statement"] for a in as_list(s["Action"])
    ]
    assert not [a for a in actions if "*" in a or "Delete" in a or a.startswith("iam:")]


def assume(claims: dict[str, str], provider: str = PROVIDER, store: Stack | None = None) -> bool:
    trust = policy_document(
        (store or model_store()).properties("PublisherRole")["AssumeRolePolicyDocument"]
    )
    call = Call("sts:AssumeRoleWithWebIdentity", "*", ("Federated", provider), claims)
    return trust_allows(call, trust)


def test_the_publisher_is_assumed_by_the_ci_job_only() -> None:
    assert assume(CLAIMS)
    sub = f"{ISSUER}:sub"
    for other in (
        "repo:acme/bankreco:ref:refs/heads/feature",
        "repo:acme/bankreco:pull_request",
        "repo:acme/bankreco-fork:ref:refs/heads/main",
        "repo:evil/bankreco:ref:refs/heads/main",
    ):
        assert not assume(CLAIMS | {sub: other}), other
    assert not assume(CLAIMS | {f"{ISSUER}:aud": "another-audience"})
    assert not assume({f"{ISSUER}:aud": "sts.amazonaws.com"})
    assert not assume(CLAIMS, f"arn:aws:iam::{ACCOUNT}:oidc-provider/gitlab.com")
    trust = policy_document(model_store().properties("PublisherRole")["AssumeRolePolicyDocument"])
    as_role = Call("sts:AssumeRole", "*", ("AWS", ACCOUNT_ADMIN))
    assert not trust_allows(as_role, trust)


def test_the_trust_policy_names_the_provider_audience_and_subject() -> None:
    trust = policy_document(model_store().properties("PublisherRole")["AssumeRolePolicyDocument"])
    [statement] = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Federated": PROVIDER}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{ISSUER}:sub": SUBJECT},
    }


def test_the_oidc_provider_is_created_or_reused() -> None:
    created = model_store()
    provider = created.properties("OidcProvider")
    assert provider == {"Url": f"https://{ISSUER}", "ClientIdList": ["sts.amazonaws.com"]}
    reused = model_store(CreateOidcProvider="false")
    assert "OidcProvider" not in reused.resources
    assert assume(CLAIMS, store=created)
    assert assume(CLAIMS, store=reused)


@pytest.mark.parametrize("subject", ["*", "repo:*", "repo:acme/*", "repo:*:ref:refs/heads/main"])
def test_the_subject_names_a_repository(subject: str) -> None:
    with pytest.raises(ParameterError):
        model_store(OidcSubject=subject)
