"""cfn-lint finds nothing in the templates: as written (cfn-lint checks both branches of every
Fn::If and every condition scenario) and with the parameter sets that switch the stacks'
shape, whose values it then resolves into the resources."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_by_config  # type: ignore[import-untyped]

from tests.infrastructure.stacks import (
    ADMIN_ROLE,
    BANK_TEMPLATE,
    KEY_TEMPLATE,
    STORE_TEMPLATE,
    SUBJECT,
    bank_stack,
)

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::111122223333:role/crm-alphabank"
BANK = {"BankId": "alphabank", "ModelBucket": "acme-bankreco-models", "SigningKeyArn": KEY}
CASES: list[tuple[Path, dict[str, str]]] = [
    (BANK_TEMPLATE, {}),
    (BANK_TEMPLATE, BANK),
    (
        BANK_TEMPLATE,
        BANK
        | {
            "AuthMode": "iam",
            "AllowedPrincipals": ROLE,
            "ModelBucketOwner": "444455556666",
            "ModelBucketKeyArn": KEY,
            "ReservedConcurrency": "25",
            "CreateApiGatewayAccountRole": "true",
            "StageName": "prod",
            "SnapStart": "true",
            "XRaySdk": "true",
            "ServeAnyEstimator": "true",
        },
    ),
    (STORE_TEMPLATE, {}),
    (
        STORE_TEMPLATE,
        {"OidcSubject": SUBJECT, "AdminRoleArn": ADMIN_ROLE, "CreateOidcProvider": "false"},
    ),
    (KEY_TEMPLATE, {}),
    (KEY_TEMPLATE, {"BankId": "alphabank", "Generation": "2", "Active": "false"}),
]


@pytest.mark.parametrize(
    ("path", "params"), CASES, ids=[f"{p.name}-{i}" for i, (p, _) in enumerate(CASES)]
)
def test_cfn_lint_finds_nothing(path: Path, params: dict[str, str]) -> None:
    config = ManualArgs(templates=[str(path)], parameters=[params] if params else [])
    matches = lint_by_config(config)
    assert not matches, "\n".join(str(match) for match in matches)


def test_the_linted_bank_parameters_are_a_valid_set() -> None:
    """The renderer accepts the parameter sets above (patterns, allowed values, rules)."""
    for path, params in CASES:
        if path == BANK_TEMPLATE and params:
            assert bank_stack(**params).broken_rules() == []
