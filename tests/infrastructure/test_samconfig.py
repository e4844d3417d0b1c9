"""samconfig.toml: a default (demo) environment and one environment, one stack, per bank."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

BANK_ENVS = ("alphabank", "betabank")


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


@pytest.mark.parametrize("env", BANK_ENVS)
def test_bank_environment(config: dict[str, Any], template: dict[str, Any], env: str) -> None:
    deploy = config[env]["deploy"]["parameters"]
    assert deploy["stack_name"] == f"bankreco-{env}"
    assert "CAPABILITY_IAM" in as_list(deploy["capabilities"])
    assert deploy["resolve_s3"] is True
    params = overrides(deploy)
    assert params["BankId"] == env
    assert re.fullmatch(template["Parameters"]["BankId"]["AllowedPattern"], env)
    for name in (
        "ModelBucket",
        "ModelPrefix",
        "StageName",
        "ThrottleRateLimit",
        "ThrottleBurstLimit",
        "QuotaLimit",
        "QuotaPeriod",
    ):
        assert name in params, f"{env}: {name} not overridden"
    check_against_template(params, template)
    assert config[env]["build"]["parameters"]["cached"] is False


def test_each_environment_has_its_own_stack(config: dict[str, Any]) -> None:
    envs = ["default", *BANK_ENVS]
    stacks = [config[env]["deploy"]["parameters"]["stack_name"] for env in envs]
    assert len(set(stacks)) == len(stacks)
    banks = [overrides(config[env]["deploy"]["parameters"])["BankId"] for env in envs]
    assert len(set(banks)) == len(envs)
