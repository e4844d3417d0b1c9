"""The main job on the embedded local store: data -> model -> published -> answers."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bankreco.cli import EXAMPLES, invoke
from bankreco.manifest import read_model_dir
from bankreco.registry import Registry
from bankreco.store import open_store

DEMO_BANK = "demo"


def run_demo(workdir: Path, customers: int, seed: int) -> int:
    """Generate a Santander-format file, train, evaluate, publish locally, answer the examples."""
    from bankreco import service
    from bankreco.data.generate import generate
    from bankreco.training.evaluate import evaluate
    from bankreco.training.report import write_report
    from bankreco.training.train import TrainConfig, train

    data = workdir / "data" / "train_ver2.csv"
    model_dir = workdir / "model"
    store_dir = workdir / "models"
    print(f"1/5 generating {customers:,} customers over 17 months -> {data}")
    data.parent.mkdir(parents=True, exist_ok=True)
    generate(data, customers, seed, "santander", progress=True)
    print(f"2/5 training -> {model_dir}")
    train(data, model_dir, TrainConfig(seed=seed), progress=True)
    print("3/5 evaluating on the last month")
    result = evaluate(data, model_dir)
    for name, value in result.map_at_7.items():
        print(f"    MAP@7 {name:<18} {value:.5f}")
    print(f"    report: {write_report(result, model_dir)}")
    version = Registry(open_store(str(store_dir))).publish(DEMO_BANK, *read_model_dir(model_dir))
    print(f"4/5 published {DEMO_BANK}/{version} to {store_dir}")
    os.environ.update({"MODEL_STORE_URI": str(store_dir), "BANK_ID": DEMO_BANK})
    service.reset()
    print("5/5 the three examples of the original service, through the Lambda handler:")
    for event in EXAMPLES:
        response = invoke(Path(event))
        body = json.loads(response["body"])
        products = [f"{r['product']} ({r['score']:.3f})" for r in body.get("recommendations", [])]
        print(f"  {event}: HTTP {response['statusCode']}")
        print("    " + ("\n    ".join(products) if products else json.dumps(body)))
    return 0
