"""template.yaml: the API's edge - who may call each route in each AuthMode, the access log, the
account's logging role, reserved concurrency and what the tracer records."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infrastructure.cfn import ACCOUNT, Stack
from tests.infrastructure.iam import Call, same_account_allows
from tests.infrastructure.stacks import ANOTHER_ACCOUNT, bank_stack

CALLER = f"arn:aws:iam::{ACCOUNT}:role/crm-alphabank"
PARTNER = f"arn:aws:iam::{ANOTHER_ACCOUNT}:role/crm"
PRINCIPALS = f"{CALLER},{PARTNER}"
KEY_RESOURCES = {
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
}
LOG_FIELDS = {
    "requestId": "$context.requestId",
    "apiKeyId": "$context.identity.apiKeyId",
    "caller": "$context.identity.caller",
    "status": "$context.status",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "errorType": "$context.error.responseType",
}
# Context variables that would copy a request's or response's content into the log.
CONTENT = ("body", "$input", "header", "querystring", "requestoverride", "responseoverride")


def iam_stack(**params: str) -> Stack:
    return bank_stack(**({"AuthMode": "iam", "AllowedPrincipals": PRINCIPALS} | params))


def body(stack: Stack) -> dict[str, Any]:
    found: dict[str, Any] = stack.properties("BankrecoApi")["DefinitionBody"]
    return found


def kinds(stack: Stack) -> set[str]:
    return {r["Type"] for r in stack.resources.values()}


@pytest.mark.parametrize(("stack", "scheme"), [(bank_stack, "api_key"), (iam_stack, "sigv4")])
def test_every_route_requires_the_modes_authorization(
    stack: Any, scheme: str, api_routes: set[tuple[str, str]]
) -> None:
    paths = body(stack())["paths"]
    routes = {(m.upper(), path): op for path, item in paths.items() for m, op in item.items()}
    assert set(routes) == api_routes  # every route the function serves, and no other
    assert all(op == {"security": [{scheme: []}]} for op in routes.values()), routes
    schemes = body(stack())["components"]["securitySchemes"]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_sam_adds_no_authorization_of_its_own(
    template: dict[str, Any], api_events: dict[str, dict[str, Any]]
) -> None:
    """SAM's Auth (on the API or an event) would override the body's per-route security."""
    api = template["Resources"]["BankrecoApi"]["Properties"]
    assert "Auth" not in api
    assert api["MergeDefinitions"] is True
    assert api["AlwaysDeploy"] is True  # an AuthMode change reaches the stage
    assert all("Auth" not in event for event in api_events.values())


def test_api_key_mode_creates_the_key_and_its_usage_plan() -> None:
    stack = bank_stack(ThrottleRateLimit="20", QuotaLimit="500")
    assert kinds(stack) >= KEY_RESOURCES
    plan = stack.properties("BankrecoApiUsagePlan")
    assert plan["ApiStages"] == [{"ApiId": "BankrecoApi", "Stage": "BankrecoApiStage"}]
    assert plan["Throttle"] == {"BurstLimit": "100", "RateLimit": "20"}
    assert plan["Quota"] == {"Limit": "500", "Period": "MONTH"}
    assert stack.properties("BankrecoApiApiKey")["Enabled"] is True
    assert stack.properties("BankrecoApiUsagePlanKey") == {
        "KeyId": "BankrecoApiApiKey",
        "KeyType": "API_KEY",
        "UsagePlanId": "BankrecoApiUsagePlan",
    }
    assert stack.outputs["ApiKeyId"] == "BankrecoApiApiKey"
    assert "x-amazon-apigateway-policy" not in body(stack)


def test_iam_mode_creates_no_key_and_lets_in_the_named_principals_only() -> None:
    stack = iam_stack()
    assert not KEY_RESOURCES & kinds(stack)
    assert "ApiKeyId" not in stack.outputs
    policy = body(stack)["x-amazon-apigateway-policy"]
    resource = "execute-api:/alphabank/POST/recommendations"
    everything = {"Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}]}

    def invoke(principal: str, identity: list[dict[str, Any]]) -> bool:
        call = Call("execute-api:Invoke", resource, ("AWS", principal))
        return same_account_allows(call, identity, policy)

    assert invoke(CALLER, [])
    assert invoke(PARTNER, [])
    assert not invoke(f"arn:aws:iam::{ACCOUNT}:role/ops", [everything])
    assert not invoke(f"arn:aws:iam::{ACCOUNT}:role/crm-betabank", [])


def test_rules_refuse_unsafe_parameter_sets() -> None:
    assert bank_stack(AuthMode="iam").broken_rules() == [
        "AuthMode=iam needs AllowedPrincipals (the ARNs allowed to call the API)."
    ]
    assert bank_stack(SigningKeyArn="").broken_rules() == [
        "RequireSignature=true needs SigningKeyArn (the bank's signing key)."
    ]
    assert bank_stack(SigningKeyArn="", RequireSignature="false").broken_rules() == []
    assert iam_stack().broken_rules() == []


def test_access_log_is_json_without_content() -> None:
    stack = bank_stack(LogRetentionDays="90")
    setting = stack.properties("BankrecoApi")["AccessLogSetting"]
    line = setting["Format"]
    assert "\n" not in line
    # Variables ending in String are quoted by API Gateway itself.
    fields = json.loads(re.sub(r"\$context\.[\w.]+String", '"quoted"', line))
    assert LOG_FIELDS.items() <= fields.items()
    assert fields["errorMessage"] == "quoted"
    variables = re.findall(r"\$[\w.]+", line)
    assert len(variables) == len(fields)  # every field is one context variable, no literals
    for variable in variables:
        assert variable.startswith("$context."), variable
        assert not [c for c in CONTENT if c in variable.lower()], variable
    group = stack.properties("ApiAccessLogGroup")
    assert setting["DestinationArn"].endswith(f":log-group:{group['LogGroupName']}:*")
    assert group["RetentionInDays"] == "90"


def test_the_account_logging_role_is_optional() -> None:
    names = {"ApiGatewayAccount", "ApiGatewayCloudWatchRole"}
    stack = bank_stack()
    assert not names & set(stack.resources)
    ready = stack.template["Resources"]["ApiGatewayAccountReady"]
    assert stack.resolve(ready["Metadata"]) == {"AccountSetting": "none"}
    with_role = bank_stack(CreateApiGatewayAccountRole="true")
    assert names <= set(with_role.resources)
    assert with_role.resolve(ready["Metadata"]) == {"AccountSetting": "ApiGatewayAccount"}
    assert stack.template["Resources"]["BankrecoApi"]["DependsOn"] == "ApiGatewayAccountReady"
    role = with_role.properties("ApiGatewayCloudWatchRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    account = with_role.properties("ApiGatewayAccount")
    assert (
        account["CloudWatchRoleArn"]
        == f"arn:aws:iam::{ACCOUNT}:role/bankreco-alphabank-ApiGatewayCloudWatchRole"
    )


@pytest.mark.parametrize(("value", "reserved"), [("", None), ("0", None), ("25", "25")])
def test_reserved_concurrency(value: str, reserved: str | None) -> None:
    props = bank_stack(ReservedConcurrency=value).properties("PredictFunction")
    assert props.get("ReservedConcurrentExecutions") == reserved


def test_the_tracer_records_neither_responses_nor_errors(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
