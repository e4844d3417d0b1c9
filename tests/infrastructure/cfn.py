"""A CloudFormation template with its parameters set, as CloudFormation would resolve it.

`render` checks the parameter values against their constraints, evaluates the conditions and
the rules, drops the resources and outputs whose condition is false and resolves the intrinsic
functions the project's templates use (Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Split, Fn::Join,
Fn::Select, Fn::ImportValue, AWS::NoValue). Resources get made-up but well-formed physical ids
and ARNs, the same for the same stack name, so that one stack's outputs can be another's
parameters. SAM resources are resolved as written: nothing is transformed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

ACCOUNT = "111122223333"
REGION = "eu-west-1"
NO_VALUE = object()  # what !Ref AWS::NoValue resolves to, before it is dropped


def load(path: Path) -> dict[str, Any]:
    """A template as plain data; short tags (!Ref, !Sub, ...) become {"Ref": ...} etc."""
    loaded: dict[str, Any] = cfn_yaml.load(str(path))
    return loaded


class ParameterError(ValueError):
    """A parameter value CloudFormation would refuse."""


@dataclass
class Stack:
    template: dict[str, Any]
    name: str
    params: dict[str, str]
    imports: Mapping[str, str] = field(default_factory=dict)
    # Resources SAM generates (logical id -> type), so that a GetAtt on them resolves.
    generated: Mapping[str, str] = field(default_factory=dict)
    conditions: dict[str, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
        }
        self.refs: dict[str, str] = pseudo | self._parameters()
        for name in self.template.get("Conditions", {}):
            self.condition(name)

    def _parameters(self) -> dict[str, str]:
        declared: dict[str, Any] = self.template.get("Parameters", {})
        unknown = set(self.params) - set(declared)
        if unknown:
            raise ParameterError(f"unknown parameters {sorted(unknown)}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name not in self.params and "Default" not in spec:
                raise ParameterError(f"{name} has no value and no default")
            value = str(self.params.get(name, spec.get("Default")))
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(pattern, value):
                raise ParameterError(f"{name}={value!r} does not match {pattern}")
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in {str(v) for v in allowed}:
                raise ParameterError(f"{name}={value!r} is not one of {allowed}")
            if spec["Type"] == "Number":
                number = float(value)
                if not float(spec.get("MinValue", number)) <= number:
                    raise ParameterError(f"{name}={value} is below MinValue")
                if not number <= float(spec.get("MaxValue", number)):
                    raise ParameterError(f"{name}={value} is above MaxValue")
            values[name] = value
        return values

    # ---------------------------------------------------------------- conditions and rules
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = self._truth(self.template["Conditions"][name])
        return self.conditions[name]

    def _truth(self, expr: Any) -> bool:
        [(fn, args)] = expr.items()
        if fn == "Condition":
            return self.condition(args)
        if fn == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not self._truth(args[0])
        if fn == "Fn::And":
            return all(self._truth(a) for a in args)
        if fn == "Fn::Or":
            return any(self._truth(a) for a in args)
        raise NotImplementedError(fn)

    def broken_rules(self) -> list[str]:
        """The AssertDescription of every rule assertion these parameters fail."""
        broken: list[str] = []
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self._truth(rule["RuleCondition"]):
                continue
            broken += [
                a["AssertDescription"] for a in rule["Assertions"] if not self._truth(a["Assert"])
            ]
        return broken

    # ---------------------------------------------------------------- resources and outputs
    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Every resource created with these parameters, its properties resolved."""
        return {
            name: {**resource, "Properties": self.resolve(resource.get("Properties", {}))}
            for name, resource in self.template["Resources"].items()
            if self.created(name)
        }

    def properties(self, name: str) -> dict[str, Any]:
        assert self.created(name), f"{name} is not created with {self.params}"
        props: dict[str, Any] = self.resolve(self.template["Resources"][name].get("Properties", {}))
        return props

    def created(self, name: str) -> bool:
        condition = self.template["Resources"][name].get("Condition")
        return condition is None or self.condition(condition)

    @property
    def outputs(self) -> dict[str, Any]:
        return {
            name: self.resolve(output["Value"])
            for name, output in self.template.get("Outputs", {}).items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    @property
    def exports(self) -> dict[str, Any]:
        return {
            self.resolve(output["Export"]["Name"]): self.outputs[name]
            for name, output in self.template.get("Outputs", {}).items()
            if "Export" in output and name in self.outputs
        }

    # ---------------------------------------------------------------- intrinsic functions
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = (self.resolve(v) for v in value)
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, args)] = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._function(key, args)
        items = ((k, self.resolve(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not NO_VALUE}

    def _function(self, fn: str, args: Any) -> Any:
        if fn == "Ref":
            return self._ref(args)
        if fn == "Fn::If":
            name, if_true, if_false = args
            return self.resolve(if_true if self.condition(name) else if_false)
        if fn == "Fn::Sub":
            text, variables = (args, {}) if isinstance(args, str) else args
            values = {k: str(self.resolve(v)) for k, v in variables.items()}
            return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: self._sub(m[1], values), text)
        if fn == "Fn::GetAtt":
            logical, attribute = args.split(".", 1) if isinstance(args, str) else args
            return self._physical(logical, attribute)
        if fn == "Fn::Split":
            separator, text = args
            return str(self.resolve(text)).split(separator)
        if fn == "Fn::Join":
            separator, items = args
            return separator.join(str(i) for i in self.resolve(items))
        if fn == "Fn::Select":
            index, items = args
            return self.resolve(items)[int(self.resolve(index))]
        if fn == "Fn::ImportValue":
            return self.imports[self.resolve(args)]
        raise NotImplementedError(fn)

    def _sub(self, name: str, values: dict[str, str]) -> str:
        if name in values:
            return values[name]
        if "." in name and name.split(".", 1)[0] in self._types:
            logical, attribute = name.split(".", 1)
            return str(self._physical(logical, attribute))
        return str(self._ref(name))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.refs:
            return self.refs[name]
        logical, _, sam_attribute = name.partition(".")  # SAM's MyApi.Stage, MyFunction.Alias
        if sam_attribute:
            return f"{logical}{sam_attribute}"
        return self._physical(logical, None)

    @property
    def _types(self) -> dict[str, str]:
        types = {name: r["Type"] for name, r in self.template["Resources"].items()}
        return types | dict(self.generated)

    def _physical(self, logical: str, attribute: str | None) -> str:
        """Ref (attribute None) or GetAtt of a resource, as made-up but well-formed ids."""
        kind = self._types[logical]
        assert logical in self.generated or self.created(logical), f"{logical} is not created"
        props = self.template["Resources"].get(logical, {}).get("Properties", {})
        default_name = f"{self.name}-{logical}"
        arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
        if kind == "AWS::S3::Bucket":
            name = self.resolve(props.get("BucketName", NO_VALUE))
            name = default_name.lower() if name is NO_VALUE else name
            return name if attribute is None else f"arn:aws:s3:::{name}"
        if kind == "AWS::IAM::Role":
            return (
                default_name if attribute is None else f"arn:aws:iam::{ACCOUNT}:role/{default_name}"
            )
        if kind == "AWS::KMS::Key":
            key_id = default_name.lower()
            return key_id if attribute is None else arn.format("kms", f"key/{key_id}")
        if kind == "AWS::IAM::OIDCProvider":
            host = str(self.resolve(props["Url"])).removeprefix("https://")
            return f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
        if kind == "AWS::Logs::LogGroup":
            name = self.resolve(props["LogGroupName"])
            return name if attribute is None else arn.format("logs", f"log-group:{name}:*")
        if kind == "AWS::KMS::Alias":
            return str(self.resolve(props["AliasName"]))
        return logical if attribute is None else f"{logical}.{attribute}"


def policy_document(document: Any) -> dict[str, Any]:
    """A policy given as an object or as JSON text (a !Sub'd trust policy, say)."""
    parsed: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    return parsed
