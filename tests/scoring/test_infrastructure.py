"""infra/batch-scoring.yaml and its state machine: both validators accept them, the template
and the local runner name the same handlers, and each role may do only its part: the scorer
reads the input prefix and the bank's models and writes the output prefix, nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bankreco.scoring import cloud
from bankreco.scoring.statemachine import load, map_state
from tests.infrastructure.cfn import ACCOUNT, REGION, Stack
from tests.infrastructure.cfn import load as load_template
from tests.infrastructure.iam import Call, as_list, same_account_allows
from tests.infrastructure.stacks import ANOTHER_ACCOUNT, BUCKET, model_store, signing_key

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "batch-scoring.yaml"
DEFINITION = ROOT / "infra" / "batch-scoring.asl.json"
VALIDATOR = Path(sys.prefix) / "node" / "node_modules" / ".bin" / "asl-validator"
DATA = "acme-bank-data"
LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:bankreco-alphabank:3"
FUNCTIONS = ("SplitFunction", "ScoreFunction", "FinishFunction")
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:bankreco-alphabank-batch-scoring"


def batch_stack(**params: str) -> Stack:
    """The stack deployed after the model store, the bank's key and the bank's stack."""
    store = model_store().outputs
    values = {
        "BankId": "alphabank",
        "LayerArn": LAYER,
        "ModelBucket": store["BucketName"],
        "ModelPrefix": store["ModelPrefix"],
        "ModelBucketKeyArn": store["BucketKeyArn"],
        "SigningKeyArn": signing_key("alphabank").outputs["KeyArn"],
        "DataBucket": DATA,
    } | params
    generated = {f"{name}Role": "AWS::IAM::Role" for name in (*FUNCTIONS, "BatchScoring")}
    return Stack(load_template(TEMPLATE), "bankreco-alphabank-batch", values, generated=generated)


def test_cfn_lint_accepts_the_template() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([lint, TEMPLATE], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_accepts_the_definition() -> None:
    assert VALIDATOR.exists(), f"{VALIDATOR} is missing: `make install` runs npm ci for it"
    result = subprocess.run(
        [VALIDATOR, "--json-path", str(DEFINITION)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_runner_and_definition_name_the_same_functions() -> None:
    template = load_template(TEMPLATE)
    machine = template["Resources"]["BatchScoring"]["Properties"]
    assert machine["DefinitionUri"] == DEFINITION.name
    placeholders = set(re.findall(r"\$\{(\w+)\}", DEFINITION.read_text()))
    assert placeholders == set(machine["DefinitionSubstitutions"]) == set(cloud.HANDLERS)
    for variable, handler in cloud.HANDLERS.items():
        logical = machine["DefinitionSubstitutions"][variable]["Fn::GetAtt"][0]
        code = template["Resources"][logical]["Properties"]["InlineCode"]
        assert code == f"from {handler.__module__} import {handler.__name__} as handler"


def test_the_map_is_distributed_tolerant_and_batched() -> None:
    state = map_state(load(DEFINITION))
    assert state["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "EXPRESS",
    }
    assert state["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert 0 < state["ToleratedFailurePercentage"] < 100
    assert state["ItemBatcher"]["BatchInput"] == {"job.$": "$.job"}
    template = load_template(TEMPLATE)["Resources"]
    # a batch must score within the express child's 5 minutes
    assert template["ScoreFunction"]["Properties"]["Timeout"] < 300


def policies(stack: Stack, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = stack.properties(name)["Policies"]
    return found


def may(stack: Stack, name: str, action: str, resource: str, **context: str) -> bool:
    keys = {"s3:ResourceAccount": ACCOUNT} | context
    return same_account_allows(Call(action, resource, context=keys), policies(stack, name))


def s3(bucket: str, key: str = "") -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")


@pytest.mark.parametrize(
    ("action", "resource", "allowed"),
    [
        ("s3:GetObject", s3(DATA, "input/2016-06/customers.csv"), True),
        ("s3:GetObject", s3(DATA, "output/run-1/parts/part-00000.csv"), False),
        ("s3:GetObject", s3(DATA, "other/file.csv"), False),
        ("s3:PutObject", s3(DATA, "output/run-1/parts/part-00000.csv"), True),
        ("s3:PutObject", s3(DATA, "input/2016-06/customers.csv"), False),
        ("s3:DeleteObject", s3(DATA, "output/run-1/parts/part-00000.csv"), False),
        ("s3:GetObject", s3(BUCKET, "models/alphabank/current.json"), True),
        ("s3:GetObject", s3(BUCKET, "models/alphabank/versions/v1/model.forest.npz"), True),
        ("s3:GetObject", s3(BUCKET, "models/betabank/current.json"), False),
        ("s3:PutObject", s3(BUCKET, "models/alphabank/current.json"), False),
        ("s3:GetObject", s3("another-bucket", "input/x.csv"), False),
    ],
)
def test_the_scorer_reads_input_and_models_and_writes_output_only(
    action: str, resource: str, allowed: bool
) -> None:
    assert may(batch_stack(), "ScoreFunction", action, resource) is allowed


def test_the_scorer_reads_from_the_owners_buckets_only() -> None:
    stack = batch_stack()
    key = s3(DATA, "input/customers.csv")
    assert not may(
        stack, "ScoreFunction", "s3:GetObject", key, **{"s3:ResourceAccount": ANOTHER_ACCOUNT}
    )
    assert may(
        stack, "ScoreFunction", "kms:GetPublicKey", signing_key("alphabank").outputs["KeyArn"]
    )
    assert not may(stack, "ScoreFunction", "kms:Sign", signing_key("alphabank").outputs["KeyArn"])


@pytest.mark.parametrize(
    ("name", "action", "resource", "context", "allowed"),
    [
        ("SplitFunction", "s3:GetObject", s3(DATA, "input/c.csv"), {}, True),
        ("SplitFunction", "s3:GetObject", s3(BUCKET, "models/alphabank/current.json"), {}, True),
        ("SplitFunction", "s3:GetObject", s3(BUCKET, "models/alphabank/versions/v1/x"), {}, False),
        ("SplitFunction", "s3:PutObject", s3(DATA, "output/r/pending.json"), {}, True),
        ("SplitFunction", "s3:PutObject", s3(DATA, "input/c.csv"), {}, False),
        ("SplitFunction", "s3:ListBucket", s3(DATA), {"s3:prefix": "output/r/done/"}, True),
        ("SplitFunction", "s3:ListBucket", s3(DATA), {"s3:prefix": "input/"}, False),
        ("FinishFunction", "s3:GetObject", s3(DATA, "output/r/rejects/part-00000.csv"), {}, True),
        ("FinishFunction", "s3:PutObject", s3(DATA, "output/r/summary.json"), {}, True),
        ("FinishFunction", "s3:GetObject", s3(DATA, "input/c.csv"), {}, False),
        ("FinishFunction", "s3:GetObject", s3(BUCKET, "models/alphabank/current.json"), {}, False),
        ("BatchScoring", "s3:GetObject", s3(DATA, "output/r/pending.json"), {}, True),
        ("BatchScoring", "s3:PutObject", s3(DATA, "output/r/results/x/FAILED_0.json"), {}, True),
        ("BatchScoring", "s3:GetObject", s3(DATA, "input/c.csv"), {}, False),
        ("BatchScoring", "states:StartExecution", MACHINE, {}, True),
        ("BatchScoring", "states:StartExecution", MACHINE + "-other", {}, False),
        (
            "BatchScoring",
            "states:RedriveExecution",
            MACHINE.replace(":stateMachine:", ":execution:") + "/run:child",
            {},
            True,
        ),
    ],
)
def test_the_other_roles(
    name: str, action: str, resource: str, context: dict[str, str], allowed: bool
) -> None:
    assert may(batch_stack(), name, action, resource, **context) is allowed


def test_the_state_machine_invokes_its_three_functions_only() -> None:
    stack = batch_stack()
    for function in FUNCTIONS:
        assert may(stack, "BatchScoring", "lambda:InvokeFunction", f"{function}.Arn")
    assert not may(stack, "BatchScoring", "lambda:InvokeFunction", "PredictFunction.Arn")


def test_no_action_or_resource_is_a_wildcard() -> None:
    stack = batch_stack(DataBucketKeyArn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data-key")
    for name in (*FUNCTIONS, "BatchScoring"):
        for policy in policies(stack, name):
            for statement in policy["Statement"]:
                assert "*" not in "".join(as_list(statement["Action"])), (name, statement)
                assert all(r.rstrip("*") for r in as_list(statement["Resource"])), statement


def test_the_data_key_decrypts_through_s3_for_the_prefixes_of_each_role() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/data-key"
    stack = batch_stack(DataBucketKeyArn=key)
    via = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    reading_input = via | {"kms:EncryptionContext:aws:s3:arn": s3(DATA, "input/c.csv")}
    assert may(stack, "ScoreFunction", "kms:Decrypt", key, **reading_input)
    assert not may(stack, "FinishFunction", "kms:Decrypt", key, **reading_input)
    assert not may(
        stack,
        "ScoreFunction",
        "kms:Decrypt",
        key,
        **{"kms:EncryptionContext:aws:s3:arn": s3(DATA, "input/c.csv")},
    )
    assert "DataBucketKey" not in str(policies(batch_stack(), "ScoreFunction"))


def test_output_and_input_prefixes_must_differ() -> None:
    assert batch_stack(OutputPrefix="input").broken_rules()
    assert not batch_stack().broken_rules()
