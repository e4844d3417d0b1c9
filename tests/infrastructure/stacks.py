"""The project's three templates deployed as the README orders them, in one made-up account:
the model store, a bank's signing key (importing the store's publisher role), the bank's stack
(given the store's and the key's outputs as parameters)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tests.infrastructure.cfn import ACCOUNT, Stack, load
from tests.infrastructure.iam import Call, same_account_allows

ROOT = Path(__file__).resolve().parents[2]
STORE_TEMPLATE = ROOT / "infra" / "model-store.yaml"
KEY_TEMPLATE = ROOT / "infra" / "bank-signing-key.yaml"
BANK_TEMPLATE = ROOT / "template.yaml"

STORE_STACK = "bankreco-model-store"
BUCKET = "acme-bankreco-models"
SUBJECT = "repo:acme/bankreco:ref:refs/heads/main"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bankreco-admin"
ANOTHER_ACCOUNT = "444455556666"
ACCOUNT_ADMIN = f"arn:aws:iam::{ACCOUNT}:user/ops"  # AdministratorAccess, not the admin role
EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@cache
def template(path: Path) -> dict[str, Any]:
    return load(path)


def model_store(**params: str) -> Stack:
    values = {"BucketName": BUCKET, "OidcSubject": SUBJECT} | params
    return Stack(template(STORE_TEMPLATE), STORE_STACK, values)


def signing_key(bank: str = "alphabank", **params: str) -> Stack:
    values = {"BankId": bank} | params
    generation = values.get("Generation", "1")
    name = f"bankreco-signing-{bank}-{generation}"
    return Stack(template(KEY_TEMPLATE), name, values, imports=model_store().exports)


def bank_stack(bank: str = "alphabank", **params: str) -> Stack:
    store = model_store().outputs
    values = {
        "BankId": bank,
        "ModelBucket": store["BucketName"],
        "ModelPrefix": store["ModelPrefix"],
        "ModelBucketKeyArn": store["BucketKeyArn"],
        "SigningKeyArn": signing_key(bank).outputs["KeyArn"],
    } | params
    generated = {"PredictFunctionRole": "AWS::IAM::Role"}  # SAM makes the function's role
    return Stack(template(BANK_TEMPLATE), f"bankreco-{bank}", values, generated=generated)


def function_role(bank: str = "alphabank") -> str:
    """The ARN of the role SAM makes for the bank's function (as the renderer names it)."""
    arn: str = bank_stack(bank).outputs["FunctionRoleArn"]
    return arn


def function_policies(stack: Stack) -> list[dict[str, Any]]:
    """The inline policy documents of the bank's function (its role's identity policy)."""
    policies: list[dict[str, Any]] = stack.properties("PredictFunction")["Policies"]
    return policies


def publisher_policy(store: Stack) -> dict[str, Any]:
    policy: dict[str, Any] = store.properties("PublisherRole")["Policies"][0]["PolicyDocument"]
    return policy


def s3_allows(
    who: str, action: str, key: str, store: Stack | None = None, /, **context: str
) -> bool:
    """Whether `who` ("publisher", "function" of alphabank, "account admin", "admin role") may
    do `action` on the object `key` of the model bucket (on the bucket itself when key is "")."""
    store = store or model_store()
    principals = {
        "publisher": (store.outputs["PublisherRoleArn"], [publisher_policy(store)]),
        "function": (function_role(), function_policies(bank_stack())),
        "account admin": (ACCOUNT_ADMIN, [EVERYTHING]),
        "admin role": (ADMIN_ROLE, [EVERYTHING]),
    }
    principal, identity = principals[who]
    resource = f"arn:aws:s3:::{BUCKET}/{key}" if key else f"arn:aws:s3:::{BUCKET}"
    context = {"s3:ResourceAccount": ACCOUNT} | context
    bucket_policy = store.properties("ModelBucketPolicy")["PolicyDocument"]
    call = Call(action, resource, ("AWS", principal), context)
    return same_account_allows(call, identity, bucket_policy)
