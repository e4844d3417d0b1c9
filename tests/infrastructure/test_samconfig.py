"""samconfig.toml: a default (demo) environment, one environment (one stack) per bank, the model
store's environment and one signing-key environment per bank."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.cfn import Stack
from tests.infrastructure.stacks import KEY_TEMPLATE, STORE_TEMPLATE, model_store
from tests.infrastructure.stacks import template as load

BANK_ENVS = ("alphabank", "betabank")
KEY_ENVS = {f"{bank}-signing-key": bank for bank in ("demo", *BANK_ENVS)}
PLACEHOLDER_KEY = re.compile(r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/REPLACE-WITH-[A-Za-z0-9-]+$")


@pytest.fixture(scope="module")
def config(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "samconfig.toml").read_text(encoding="utf-8"))


def overrides(deploy: dict[str, Any]) -> dict[str, str]:
    """parameter_overrides, written as one "K=V K=V" string or as a list of "K=V"."""
    raw = deploy["parameter_overrides"]
    items = shlex.split(raw) if isinstance(raw, str) else list(raw)
    pairs = [item.split("=", 1) for item in items]
    assert all(len(pair) == 2 for pair in pairs), raw
    return {key: value for key, value in pairs}


def as_list(value: Any) -> list[str]:
    return value.split() if isinstance(value, str) else list(value)


def check_against_template(params: dict[str, str], template: dict[str, Any]) -> None:
    declared = template["Parameters"]
    assert set(params) <= set(declared), f"unknown parameters: {set(params) - set(declared)}"
    required = {name for name, spec in declared.items() if "Default" not in spec}
    assert required <= set(params), f"missing required parameters: {required - set(params)}"
    for name, value in params.items():
        spec = declared[name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if "AllowedValues" in spec:
            assert value in {str(v) for v in spec["AllowedValues"]}, (name, value)
        if spec["Type"] == "Number":
            number = float(value)
            assert number >= float(spec.get("MinValue", number)), (name, value)
            assert number <= float(spec.get("MaxValue", number)), (name, value)


def test_version(config: dict[str, Any]) -> None:
    assert config["version"] == 0.1


def test_default_environment(config: dict[str, Any], template: dict[str, Any]) -> None:
    default = config["default"]
    assert "parameters" in default["global"]
    assert default["validate"]["parameters"]["lint"] is True
    build = default["build"]["parameters"]
    assert build["cached"] is False  # SAM would not see changes to src/ or the lock
    assert build["parallel"] is True
    deploy = default["deploy"]["parameters"]
    assert deploy["stack_name"] == "bankreco-demo"
    assert "CAPABILITY_IAM" in as_list(deploy["capabilities"])
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
    params = overrides(deploy)
    assert params["BankId"] == "demo"
    check_against_template(params, template)
    assert Stack(template, "bankreco-demo", params).broken_rules() == []
    for command in ("local_invoke", "local_start_api"):
        local = overrides(default[command]["parameters"])
        assert local["SigningKeyArn"] == params["SigningKeyArn"], command


@pytest.mark.parametrize("env", BANK_ENVS)
def test_bank_environment(config: dict[str, Any], template: dict[str, Any], env: str) -> None:
    deploy = config[env]["deploy"]["parameters"]
    assert deploy["stack_name"] == f"bankreco-{env}"
    assert "CAPABILITY_IAM" in as_list(deploy["capabilities"])
    assert deploy["resolve_s3"] is True
    params = overrides(deploy)
    assert params["BankId"] == env
    assert re.fullmatch(template["Parameters"]["BankId"]["AllowedPattern"], env)
    needed = ["ModelBucket", "ModelPrefix", "ModelBucketKeyArn", "SigningKeyArn", "StageName"]
    needed += ["AuthMode", "ThrottleRateLimit", "ThrottleBurstLimit"]
    if params["AuthMode"] == "api-key":
        needed += ["QuotaLimit", "QuotaPeriod"]
    for name in needed:
        assert name in params, f"{env}: {name} not overridden"
    check_against_template(params, template)
    assert Stack(template, f"bankreco-{env}", params).broken_rules() == []
    # The key ARNs are placeholders, named after the output that replaces them.
    assert PLACEHOLDER_KEY.match(params["SigningKeyArn"]), params["SigningKeyArn"]
    assert env in params["SigningKeyArn"]
    assert config[env]["build"]["parameters"]["cached"] is False


def test_both_auth_modes_have_an_example(config: dict[str, Any]) -> None:
    modes = {overrides(config[env]["deploy"]["parameters"])["AuthMode"] for env in BANK_ENVS}
    assert modes == {"api-key", "iam"}


def test_model_store_environment(config: dict[str, Any]) -> None:
    deploy = config["model-store"]["deploy"]["parameters"]
    assert deploy["template_file"] == "infra/model-store.yaml"
    assert deploy["stack_name"] == "bankreco-model-store"
    assert "CAPABILITY_IAM" in as_list(deploy["capabilities"])  # the publisher role
    params = overrides(deploy)
    check_against_template(params, load(STORE_TEMPLATE))
    model_store(**params)  # its values pass the parameters' constraints
    # The banks' stacks read the bucket and prefix this stack creates.
    for env in ("default", *BANK_ENVS):
        bank = overrides(config[env]["deploy"]["parameters"])
        assert (bank["ModelBucket"], bank["ModelPrefix"]) == (
            params["BucketName"],
            params["ModelPrefix"],
        ), env


@pytest.mark.parametrize(("env", "bank"), sorted(KEY_ENVS.items()))
def test_signing_key_environment(config: dict[str, Any], env: str, bank: str) -> None:
    deploy = config[env]["deploy"]["parameters"]
    assert deploy["template_file"] == "infra/bank-signing-key.yaml"
    params = overrides(deploy)
    assert params["BankId"] == bank
    assert params["ModelStoreStack"] == config["model-store"]["deploy"]["parameters"]["stack_name"]
    assert deploy["stack_name"] == f"bankreco-signing-{bank}-{params['Generation']}"
    check_against_template(params, load(KEY_TEMPLATE))


def test_each_environment_has_its_own_stack(config: dict[str, Any]) -> None:
    envs = ["default", *BANK_ENVS]
    every = [*envs, "model-store", *KEY_ENVS]
    assert set(config) - {"version"} == set(every)
    stacks = [config[env]["deploy"]["parameters"]["stack_name"] for env in every]
    assert len(set(stacks)) == len(stacks)
    banks = [overrides(config[env]["deploy"]["parameters"])["BankId"] for env in envs]
    assert len(set(banks)) == len(envs)
