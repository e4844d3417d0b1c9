"""Fixtures of the infrastructure tests: the SAM template, parsed with its CloudFormation tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as plain data; short tags (!Ref, !Sub, ...) become {"Ref": ...} etc."""
    loaded: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return loaded


@pytest.fixture(scope="session")
def api_events(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every `Type: Api` event of every function, by "Function.Event"."""
    events: dict[str, dict[str, Any]] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] == "Api":
                events[f"{name}.{event_name}"] = event["Properties"]
    return events


@pytest.fixture(scope="session")
def api_routes(api_events: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """(HTTP method in upper case, path) of every Api event."""
    return {(props["Method"].upper(), props["Path"]) for props in api_events.values()}
