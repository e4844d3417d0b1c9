"""template.yaml: the properties a bank's stack must have (its access rules and its API's edge:
test_function_access.py, test_api_edge.py; lint: test_lint.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bankreco.ids import BANK_PATTERN

ROUTES = {
    ("POST", "/recommendations"),
    ("POST", "/recommendations/batch"),
    ("POST", "/Predictor/Predict"),
    ("GET", "/models/current"),
    ("GET", "/swagger"),
}
STAGE = {"Fn::If": ["HasStageName", {"Ref": "StageName"}, {"Ref": "BankId"}]}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_parameters(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["BankId"]["AllowedPattern"] == "^[a-z0-9][a-z0-9-]{0,62}$" == BANK_PATTERN
    assert "Default" not in params["BankId"]
    assert "Default" not in params["ModelBucket"]
    assert params["ModelPrefix"]["Default"] == "models"
    assert params["StageName"]["Default"] == ""
    # One stage serves one bank: no parameter lets a stage (and its API key) reach another.
    assert "AllowedBanks" not in params
    assert params["AuthMode"]["Default"] == "api-key"
    assert params["AllowedPrincipals"]["Default"] == ""
    assert params["RequireSignature"]["Default"] == "true"
    for name in ("ModelBucketOwner", "ModelBucketKeyArn", "SigningKeyArn", "ReservedConcurrency"):
        assert params[name]["Default"] == "", name
    assert params["CreateApiGatewayAccountRole"]["Default"] == "false"
    assert int(params["ModelTtlSeconds"]["Default"]) == 60
    assert int(params["MemorySize"]["Default"]) == 1024
    assert int(params["LogRetentionDays"]["Default"]) == 30
    for name in ("ThrottleRateLimit", "ThrottleBurstLimit", "QuotaLimit", "QuotaPeriod"):
        assert name in params
    assert set(params["QuotaPeriod"]["AllowedValues"]) == {"DAY", "WEEK", "MONTH"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [("demo", True), ("alphabank", True), ("bank-2", True), ("Bank", False), ("-x", False)],
)
def test_bank_id_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    pattern = template["Parameters"]["BankId"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_globals_runtime_and_powertools(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Timeout"] < 29  # API Gateway's limit: the client gets the function's answer
    assert function["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Tracing"] == "Active"
    env = function["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "bankreco"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Bankreco"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert str(env["POWERTOOLS_LOGGER_LOG_EVENT"]).lower() == "false"


def test_no_function_overrides_runtime_or_architecture(template: dict[str, Any]) -> None:
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        assert props.get("Runtime", "python3.12") == "python3.12", name
        assert props.get("Architectures", ["arm64"]) == ["arm64"], name


def test_predict_function(template: dict[str, Any], root: Path) -> None:
    function = template["Resources"]["PredictFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    assert function["Metadata"]["BuildMethod"] == "makefile"
    props = function["Properties"]
    assert props["CodeUri"].rstrip("/") == "functions/predict"
    assert props["Handler"] == "app.lambda_handler"
    assert props["Layers"] == [
        {"Ref": "BankrecoLayer"},
        {"Fn::If": ["ServesAnyEstimator", {"Ref": "SklearnLayer"}, {"Ref": "AWS::NoValue"}]},
    ]
    env = props["Environment"]["Variables"]
    assert env["MODEL_STORE_URI"] == {"Fn::Sub": "s3://${ModelBucket}/${ModelPrefix}"}
    assert env["BANK_ID"] == {"Ref": "BankId"}
    assert "ALLOWED_BANKS" not in env
    assert env["MODEL_TTL_SECONDS"] == {"Ref": "ModelTtlSeconds"}
    assert env["MODEL_BUCKET_OWNER"] == {
        "Fn::If": ["HasModelBucketOwner", {"Ref": "ModelBucketOwner"}, {"Ref": "AWS::AccountId"}]
    }
    assert env["SIGNING_KEY_ID"] == {"Ref": "SigningKeyArn"}
    assert env["REQUIRE_SIGNATURE"] == {"Ref": "RequireSignature"}
    assert env["SERVE_ANY_ESTIMATOR"] == {"Ref": "ServeAnyEstimator"}
    makefile = (root / props["CodeUri"] / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^build-PredictFunction:", makefile, re.MULTILINE)


def test_log_group_with_retention(template: dict[str, Any]) -> None:
    config = template["Resources"]["PredictFunction"]["Properties"]["LoggingConfig"]
    group_name = config["LogGroup"]["Ref"]
    group = template["Resources"][group_name]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_api_and_stage(template: dict[str, Any], api_events: dict[str, dict[str, Any]]) -> None:
    assert {(p["Method"].upper(), p["Path"]) for p in api_events.values()} == ROUTES
    assert all(p["RestApiId"] == {"Ref": "BankrecoApi"} for p in api_events.values())
    api = template["Resources"]["BankrecoApi"]
    assert api["Type"] == "AWS::Serverless::Api"
    props = api["Properties"]
    assert props["StageName"] == STAGE
    assert props["OpenApiVersion"] == "3.0.1"
    assert props["TracingEnabled"] is True
    [settings] = props["MethodSettings"]
    assert settings["MetricsEnabled"] is True
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}


@pytest.mark.parametrize("name", ["BankrecoLayer", "SklearnLayer"])
def test_layer(template: dict[str, Any], root: Path, name: str) -> None:
    layer = template["Resources"][name]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    props = layer["Properties"]
    assert props["CompatibleRuntimes"] == ["python3.12"]
    assert props["CompatibleArchitectures"] == ["arm64"]
    assert props["RetentionPolicy"] == "Delete"
    content = root / props["ContentUri"]
    assert content.resolve() != root, "ContentUri '.' would copy the whole repo (and .venv)"
    makefile = (content / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^build-{name}:", makefile, re.MULTILINE)


def test_sklearn_layer_is_optional(template: dict[str, Any]) -> None:
    assert template["Resources"]["SklearnLayer"]["Condition"] == "ServesAnyEstimator"
    assert template["Parameters"]["ServeAnyEstimator"]["Default"] == "false"


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert {"ApiUrl", "ApiKeyId", "FunctionName", "LayerArn"} <= set(outputs)
    url, variables = outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${BankrecoApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/"
    assert variables == {"Stage": STAGE}
    # SAM's logical id for the key of Auth.ApiKeyRequired: a key SAM made stays the same key.
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "BankrecoApiApiKey"}
    assert outputs["ApiKeyId"]["Condition"] == "UsesApiKey"
    assert outputs["FunctionName"]["Value"] == {"Ref": "PredictFunction"}
    assert outputs["LayerArn"]["Value"] == {"Ref": "BankrecoLayer"}


def test_init_phase_preloads_and_snapstart_is_an_option(template: dict[str, Any]) -> None:
    props = template["Resources"]["PredictFunction"]["Properties"]
    assert props["Environment"]["Variables"]["PRELOAD_MODEL"] == "true"
    assert props["AutoPublishAlias"] == "live"
    assert props["SnapStart"]["ApplyOn"] == {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}
    assert template["Parameters"]["SnapStart"]["Default"] == "false"


FAULTS_PER_ROUND = """
import resource, numpy as np
rows = np.random.default_rng(0).integers(0, 16, (480, 1000)).astype(np.intp)
table = np.random.default_rng(1).random(16 * 480)

def batch():  # several 3.8 MB temporaries alive at once, all freed at the end, like a batch
    reached = [np.take(table, rows + i) for i in range(4)]
    return sum(r.sum() for r in reached)

for _ in range(3):
    batch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    batch()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def test_malloc_tunables_keep_batch_temporaries_mapped(template: dict[str, Any]) -> None:
    """GLIBC_TUNABLES ignores names it does not know: check the template's value works."""
    tunables = template["Globals"]["Function"]["Environment"]["Variables"]["GLIBC_TUNABLES"]
    settings = dict(item.split("=") for item in tunables.split(":"))
    assert settings == {
        "glibc.malloc.mmap_threshold": "33554432",
        "glibc.malloc.trim_threshold": "134217728",
    }

    def faults(env: dict[str, str]) -> float:
        done = subprocess.run(
            [sys.executable, "-c", FAULTS_PER_ROUND],
            env={k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"} | env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout)

    assert faults({}) > 500  # glibc's default: the pages are unmapped and faulted back
    assert faults({"GLIBC_TUNABLES": tunables}) < 10


def test_the_xray_sdk_is_opt_in(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["XRaySdkOn", "false", "true"]}
    assert template["Conditions"]["XRaySdkOn"] == {"Fn::Equals": [{"Ref": "XRaySdk"}, "true"]}
    assert template["Parameters"]["XRaySdk"]["Default"] == "false"
    assert template["Globals"]["Function"]["Tracing"] == "Active"  # Lambda's own trace stays


def test_the_time_budgets_fit_inside_each_other(template: dict[str, Any]) -> None:
    """A request waits on the store at most MODEL_LOAD_TIMEOUT, inside the function's timeout,
    inside API Gateway's 29 s; the init phase's preload inside Lambda's 10 s init limit."""
    env = template["Resources"]["PredictFunction"]["Properties"]["Environment"]["Variables"]
    timeout = template["Globals"]["Function"]["Timeout"]
    assert float(env["MODEL_LOAD_TIMEOUT"]) + 2 <= timeout < 29
    assert float(env["PRELOAD_TIMEOUT"]) <= 6
    assert float(env["MODEL_REFRESH_WAIT"]) <= 0.5
    s3_call = int(env["S3_MAX_ATTEMPTS"]) * (
        float(env["S3_CONNECT_TIMEOUT"]) + float(env["S3_READ_TIMEOUT"])
    )
    assert s3_call + 1 <= timeout  # one S3 call and its backoff end before the function does
