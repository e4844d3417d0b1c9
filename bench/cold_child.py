"""A cold start, run as a script in a new process: `python bench/cold_child.py MODE CONFIG RESULT`.

`ours`: import the function (functions/predict/app.py) as the Lambda runtime does, answer the
first request (the model is fetched from the S3 endpoint), then serve the rest of one bank (the
other two examples and a batch of 1,000). `naive`: import scikit-learn, pandas and boto3,
fetch and unpickle the naive pipeline, answer the same. `avoided`: the cost of one import the
init phase leaves out, on top of the function's own. Timestamps are CLOCK_MONOTONIC, which
the parent shares, so it can tell the interpreter's start-up from the import and the request.
"""

import time

STARTED = time.monotonic()

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

if os.environ.get("BENCH_CPU"):
    os.sched_setaffinity(0, {int(os.environ["BENCH_CPU"])})

ROOT = Path(__file__).resolve().parents[1]


class Context:
    function_name = "bankreco-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:bankreco-bench"
    aws_request_id = "00000000-0000-4000-8000-000000000001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def _events() -> list[dict[str, Any]]:
    return [
        json.loads((ROOT / "events" / f"predict_example_{i}.json").read_text()) for i in (1, 2, 3)
    ]


def _import_function() -> Any:
    """functions/predict/app.py, imported by file as the Lambda runtime does."""
    spec = importlib.util.spec_from_file_location(
        "bankreco_function_app", ROOT / "functions" / "predict" / "app.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("cannot import functions/predict/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ours(config: dict[str, Any]) -> dict[str, float]:
    module = _import_function()
    imported = time.monotonic()
    events, context = _events(), Context()
    response = module.lambda_handler(events[0], context)
    print(response["body"], flush=True)
    answered = time.monotonic()
    if response["statusCode"] != 200:
        raise SystemExit(f"first request answered {response['statusCode']}")
    for event in events[1:]:
        module.lambda_handler(event, context)
    batch = json.loads((ROOT / "events" / "batch.json").read_text())
    batch["body"] = json.dumps({"customers": json.loads(Path(config["profiles"]).read_text())})
    if module.lambda_handler(batch, context)["statusCode"] != 200:
        raise SystemExit("the batch request failed")
    return {"imported": imported, "answered": answered}


def naive(config: dict[str, Any]) -> dict[str, float]:
    import pickle

    import boto3
    import pandas  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    sys.path.insert(0, str(ROOT))
    from bench import naive as service

    imported = time.monotonic()
    blob = boto3.client("s3").get_object(Bucket=config["bucket"], Key=config["naive_key"])
    pipeline = pickle.loads(blob["Body"].read())
    bodies = [event["body"] for event in _events()]
    print(service.answer(pipeline, bodies[0]), flush=True)
    answered = time.monotonic()
    for body in bodies[1:]:
        service.answer(pipeline, body)
    customers = json.loads(Path(config["profiles"]).read_text())
    service.answer_batch(pipeline, json.dumps({"customers": customers}))
    return {"imported": imported, "answered": answered}


def avoided(config: dict[str, Any]) -> dict[str, float]:
    """What one import the init phase leaves out would add to it: import the function as
    `ours` does, then time importing `config["module"]` on top."""
    _import_function()
    before = time.perf_counter()
    importlib.import_module(config["module"])
    return {"seconds": time.perf_counter() - before}


def peak_rss_mb() -> float:
    """VmHWM: this process's own peak RSS (ru_maxrss would include the parent's, which Linux
    carries over fork and exec), else ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    mode, config, result = sys.argv[1:]
    times = {"ours": ours, "naive": naive, "avoided": avoided}[mode](json.loads(config))
    maxrss_mb = peak_rss_mb()
    Path(result).write_text(json.dumps({"started": STARTED, **times, "maxrss_mb": maxrss_mb}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
