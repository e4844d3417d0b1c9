"""The batch scoring state machine run locally: the same definition file, the same handlers,
a thread pool for the Distributed Map, S3 (or its stand-in) through botocore.

It interprets what infra/batch-scoring.asl.json uses of the Amazon States Language: Task
states calling Lambda functions (`arn:aws:states:::lambda:invoke`, the function named by a
DefinitionSubstitutions variable mapped to a Python handler), and a Distributed Map with an S3
JSON ItemReader, an ItemBatcher (`MaxItemsPerBatch`, `BatchInput`), an optional ItemSelector,
`MaxConcurrency`, `ToleratedFailurePercentage` and a ResultWriter; JSONPath parameters (`$`,
`$.a.b`, `$$.Map.Item.Value`, `$$.Map.Item.Index`, `States.Format`), ResultSelector,
ResultPath and OutputPath. The numbers come from the file, so the two cannot drift. Retries
are not run: a failed Lambda call fails its child at once.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bankreco.scoring.cloud import s3_client

Function = Callable[[dict[str, Any]], Any]
LAMBDA: Final = "arn:aws:states:::lambda:invoke"
_SUBSTITUTION: Final = re.compile(r"^\$\{(\w+)\}$")
_FORMAT: Final = re.compile(r"^States\.Format\('([^']*)'((?:\s*,\s*\$[\w.$]*)*)\)$")


class StatesError(Exception):
    """A state failed: `error` is the States error name, as Step Functions reports it."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    """How a run ended, its output, and the Distributed Map's counts."""

    status: str  # SUCCEEDED or FAILED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    children: dict[str, int] = field(default_factory=dict)  # succeeded, failed (last map)


def load(path: Path) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(path.read_text())
    return definition


def map_state(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition's (one) Distributed Map state."""
    [found] = [s for s in definition["States"].values() if s["Type"] == "Map"]
    return dict(found)


def path_value(path: str, data: Any, context: Mapping[str, Any]) -> Any:
    """A JSONPath of the forms the definition uses: `$`, `$.a.b`, `$$.a.b`."""
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    value = root
    for part in filter(None, rest.split(".")):
        value = value[part]
    return value


def resolve(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """Parameters with `key.$` paths (and States.Format) resolved against `data`."""
    if isinstance(template, list):
        return [resolve(item, data, context) for item in template]
    if not isinstance(template, dict):
        return template
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            out[key[:-2]] = _expression(value, data, context)
        else:
            out[key] = resolve(value, data, context)
    return out


def _expression(text: str, data: Any, context: Mapping[str, Any]) -> Any:
    found = _FORMAT.match(text)
    if found is None:
        return path_value(text, data, context)
    paths = [p.strip() for p in found[2].split(",") if p.strip()]
    values = iter(str(path_value(p, data, context)) for p in paths)
    return re.sub(r"\{\}", lambda _: next(values), found[1])


def _with_result(state: Mapping[str, Any], data: Any, result: Any) -> Any:
    """ResultSelector, ResultPath and OutputPath applied to a state's raw result."""
    if "ResultSelector" in state:
        result = resolve(state["ResultSelector"], result, {})
    where = state.get("ResultPath", "$")
    if where is None:
        combined = data
    elif where == "$":
        combined = result
    else:
        combined = json.loads(json.dumps(data))
        *parents, last = where[2:].split(".")
        target = combined
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = result
    output = state.get("OutputPath", "$")
    return combined if output is None else path_value(output, combined, {})


class LocalStateMachine:
    """Runs a definition: `functions` maps each DefinitionSubstitutions name of a Lambda
    function to its handler; `max_workers` caps the map's threads below MaxConcurrency."""

    def __init__(
        self, definition: Path, functions: Mapping[str, Function], max_workers: int = 8
    ) -> None:
        self.definition = load(definition)
        self.functions = dict(functions)
        self.max_workers = max_workers
        self._children: dict[str, int] = {}

    def run(self, execution_input: Any) -> Execution:
        try:
            output = self._states(self.definition, execution_input, {})
        except StatesError as exc:
            return Execution("FAILED", None, exc.error, exc.cause, self._children)
        return Execution("SUCCEEDED", output, children=self._children)

    def _states(self, machine: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> Any:
        name = machine["StartAt"]
        while True:
            state = machine["States"][name]
            kind = state["Type"]
            if kind == "Task":
                data = self._task(state, data, context)
            elif kind == "Map":
                data = self._map(state, data)
            elif kind == "Fail":
                raise StatesError(state.get("Error", "States.Fail"), state.get("Cause", ""))
            elif kind != "Succeed":
                raise NotImplementedError(f"state type {kind}")
            if kind == "Succeed" or state.get("End"):
                return data
            name = state["Next"]

    def _task(self, state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> Any:
        if state["Resource"] != LAMBDA:
            raise NotImplementedError(state["Resource"])
        parameters = resolve(state["Parameters"], data, context)
        variable = _SUBSTITUTION.match(parameters["FunctionName"])
        if variable is None or variable[1] not in self.functions:
            raise NotImplementedError(f"no handler for {parameters['FunctionName']}")
        try:
            payload = self.functions[variable[1]](parameters.get("Payload", data))
        except Exception as exc:  # a handler's error fails the task, as in Lambda
            raise StatesError(type(exc).__name__, str(exc)) from exc
        return _with_result(state, data, {"Payload": json.loads(json.dumps(payload))})

    def _map(self, state: Mapping[str, Any], data: Any) -> Any:
        items = self._items(state, data)
        batches = self._batches(state, data, items)
        workers = max(1, min(int(state.get("MaxConcurrency", 0)) or 1000, self.max_workers))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(lambda batch: self._child(state, batch), batches))
        failed = [o for o in outcomes if "Error" in o]
        self._children = {"succeeded": len(outcomes) - len(failed), "failed": len(failed)}
        result = self._write_results(state, data, outcomes)
        tolerated = float(state.get("ToleratedFailurePercentage", 0))
        if outcomes and 100 * len(failed) / len(outcomes) > tolerated:
            raise StatesError(
                "States.ExceedToleratedFailureThreshold",
                f"{len(failed)} of {len(outcomes)} child executions failed "
                f"(tolerated: {tolerated}%)",
            )
        return _with_result(state, data, result)

    def _items(self, state: Mapping[str, Any], data: Any) -> list[Any]:
        reader = state["ItemReader"]
        if reader["ReaderConfig"]["InputType"] != "JSON":
            raise NotImplementedError(reader["ReaderConfig"]["InputType"])
        where = resolve(reader["Parameters"], data, {})
        body = s3_client().get_object(Bucket=where["Bucket"], Key=where["Key"])["Body"].read()
        items: list[Any] = json.loads(body)
        selector = state.get("ItemSelector")
        if selector is None:
            return items
        return [
            resolve(selector, data, {"Map": {"Item": {"Value": value, "Index": index}}})
            for index, value in enumerate(items)
        ]

    @staticmethod
    def _batches(state: Mapping[str, Any], data: Any, items: list[Any]) -> list[Any]:
        batcher = state.get("ItemBatcher")
        if batcher is None:
            return items
        size = int(batcher.get("MaxItemsPerBatch", len(items) or 1))
        shared = resolve(batcher.get("BatchInput", {}), data, {})
        return [
            {"Items": items[i : i + size], **({"BatchInput": shared} if shared else {})}
            for i in range(0, len(items), size)
        ]

    def _child(self, state: Mapping[str, Any], batch: Any) -> dict[str, Any]:
        processor = state["ItemProcessor"]
        try:
            return {"Input": batch, "Output": self._states(processor, batch, {})}
        except StatesError as exc:
            return {"Input": batch, "Error": exc.error, "Cause": exc.cause}

    @staticmethod
    def _write_results(
        state: Mapping[str, Any], data: Any, outcomes: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The ResultWriter's files: <prefix>/<run id>/SUCCEEDED_0.json, FAILED_0.json and
        manifest.json; the map's output names the manifest."""
        writer = state.get("ResultWriter")
        if writer is None:
            return {"results": outcomes}
        where = resolve(writer["Parameters"], data, {})
        run = f"{where['Prefix'].rstrip('/')}/{uuid.uuid4()}"
        files = {}
        for status, chosen in (
            ("SUCCEEDED", [o for o in outcomes if "Error" not in o]),
            ("FAILED", [o for o in outcomes if "Error" in o]),
        ):
            key = files[status] = f"{run}/{status}_0.json"
            body = json.dumps([{"Status": status, **o} for o in chosen])
            s3_client().put_object(Bucket=where["Bucket"], Key=key, Body=body.encode())
        manifest = {"DestinationBucket": where["Bucket"], "MapRunArn": run, "Files": files}
        s3_client().put_object(
            Bucket=where["Bucket"], Key=f"{run}/manifest.json", Body=json.dumps(manifest).encode()
        )
        return {
            "MapRunArn": run,
            "ResultWriterDetails": {"Bucket": where["Bucket"], "Key": f"{run}/manifest.json"},
        }
