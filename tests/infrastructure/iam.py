"""Decides whether a policy allows a call, by IAM's rules, for the statement types the templates
use: Effect, Principal, Action, Resource and Condition with the String, Arn, Bool and Null
operators (and their IfExists forms). NotPrincipal, NotAction and NotResource are refused.

Evaluation: an explicit Deny in any policy wins; otherwise the call needs an Allow, and which
Allow counts depends on the service:

- S3 and API Gateway in one account (`same_account_allows`): an Allow in the principal's own
  (identity) policy or one naming the principal in the resource's policy;
- KMS (`kms_allows`): the key policy must allow, either naming the principal or naming its
  account (arn:...:root), which delegates the decision to the principal's identity policy;
- role trust (`trust_allows`): the role's trust policy must name the principal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Statement = Mapping[str, Any]
ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Call:
    """One request: who (principal type and id, e.g. ("AWS", role ARN)), what, on what, and the
    request's condition keys. aws:PrincipalArn and aws:PrincipalAccount follow from an AWS
    principal; aws:SecureTransport is "true" unless given."""

    action: str
    resource: str
    principal: tuple[str, str] = ("AWS", "")
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def keys(self) -> dict[str, ContextValue]:
        keys: dict[str, ContextValue] = {"aws:SecureTransport": "true"}
        kind, principal = self.principal
        if kind == "AWS" and principal:
            keys["aws:PrincipalArn"] = principal
            keys["aws:PrincipalAccount"] = principal.split(":")[4]
        return keys | dict(self.context)


def statements(policy: Mapping[str, Any] | None) -> list[Statement]:
    if policy is None:
        return []
    found = policy["Statement"]
    listed: list[Statement] = list(found) if isinstance(found, list) else [found]
    for statement in listed:
        refused = {"NotPrincipal", "NotAction", "NotResource"} & set(statement)
        assert not refused, f"the evaluator does not model {refused}"
    return listed


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _values_match(operator: str, wanted: list[str], given: list[str]) -> bool:
    """Whether any given value matches any wanted one, for the positive form of `operator`."""
    if operator in {"StringEquals", "ArnEquals", "Bool"}:
        return any(w == g for w in wanted for g in given)
    if operator in {"StringEqualsIgnoreCase"}:
        return any(w.lower() == g.lower() for w in wanted for g in given)
    if operator in {"StringLike", "ArnLike"}:
        return any(wildcard(w, g) for w in wanted for g in given)
    raise NotImplementedError(operator)


def condition_holds(operator: str, key: str, wanted: Any, keys: Mapping[str, Any]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    wanted_values = [str(w).lower() if base == "Bool" else str(w) for w in as_list(wanted)]
    if base == "Null":
        return (key not in keys) == (wanted_values == ["true"])
    if key not in keys:
        # A missing key fails a positive test, passes a negated one; IfExists passes both.
        return if_exists or "Not" in base
    given = [str(g).lower() if base == "Bool" else str(g) for g in as_list(keys[key])]
    negated = base.replace("Not", "", 1)
    if negated != base:
        return not _values_match(negated, wanted_values, given)
    return _values_match(base, wanted_values, given)


def conditions_hold(statement: Statement, keys: Mapping[str, Any]) -> bool:
    return all(
        condition_holds(operator, key, wanted, keys)
        for operator, tests in statement.get("Condition", {}).items()
        for key, wanted in tests.items()
    )


def principal_match(statement: Statement, call: Call) -> str | None:
    """How the statement names the call's principal: "direct" (the principal itself, or
    everyone), "account" (its account, arn:...:iam::ACCOUNT:root) or not at all (None)."""
    named = statement.get("Principal")
    if named == "*":
        return "direct"
    if not isinstance(named, Mapping):
        return None
    kind, principal = call.principal
    for candidate in as_list(named.get(kind, [])):
        if candidate in {"*", principal}:
            return "direct"
        account = re.fullmatch(r"arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12})", str(candidate))
        if kind == "AWS" and account and principal.split(":")[4] in account.groups():
            return "account"
    return None


def applies(statement: Statement, call: Call) -> bool:
    """Action, Resource and Condition match (Principal is matched separately)."""
    actions = as_list(statement["Action"])
    if not any(wildcard(a, call.action, ignore_case=True) for a in actions):
        return False
    if not any(wildcard(r, call.resource) for r in as_list(statement.get("Resource", "*"))):
        return False
    return conditions_hold(statement, call.keys())


def _matching(
    policy: Mapping[str, Any] | None, call: Call, effect: str, *, resource_policy: bool
) -> list[str]:
    """How each matching statement of `effect` names the principal ("identity" for an identity
    policy, whose statements name none)."""
    found: list[str] = []
    for statement in statements(policy):
        if statement["Effect"] != effect or not applies(statement, call):
            continue
        if not resource_policy:
            found.append("identity")
        elif (match := principal_match(statement, call)) is not None:
            found.append(match)
    return found


def denied(
    call: Call, identity: Iterable[Mapping[str, Any]], resource: Mapping[str, Any] | None
) -> bool:
    explicit = [_matching(p, call, "Deny", resource_policy=False) for p in identity]
    return any(explicit) or bool(_matching(resource, call, "Deny", resource_policy=True))


def identity_allows(call: Call, identity: Iterable[Mapping[str, Any]]) -> bool:
    return any(_matching(p, call, "Allow", resource_policy=False) for p in identity)


def same_account_allows(
    call: Call,
    identity: Iterable[Mapping[str, Any]] = (),
    resource: Mapping[str, Any] | None = None,
) -> bool:
    identity = list(identity)
    if denied(call, identity, resource):
        return False
    granted = _matching(resource, call, "Allow", resource_policy=True)
    return "direct" in granted or identity_allows(call, identity)


def kms_allows(
    call: Call, key_policy: Mapping[str, Any], identity: Iterable[Mapping[str, Any]] = ()
) -> bool:
    identity = list(identity)
    if denied(call, identity, key_policy):
        return False
    granted = _matching(key_policy, call, "Allow", resource_policy=True)
    return "direct" in granted or ("account" in granted and identity_allows(call, identity))


def trust_allows(call: Call, trust_policy: Mapping[str, Any]) -> bool:
    if denied(call, [], trust_policy):
        return False
    return "direct" in _matching(trust_policy, call, "Allow", resource_policy=True)
