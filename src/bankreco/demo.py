"""The main job on the embedded local store: data -> model -> published -> answers."""

from __future__ import annotations

import json
from pathlib import Path

from bankreco import local
from bankreco.domain import service
from bankreco.domain.manifest import read_model_dir
from bankreco.domain.registry import Policy, Registry
from bankreco.settings import Settings
from bankreco.signing.keys import KeyRing
from bankreco.store import open_store

DEMO_BANK = "demo"


def run_demo(workdir: Path, customers: int, seed: int) -> int:
    """Generate a Santander-format file, train, evaluate, publish locally, answer the examples."""
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
    settings = Settings.from_env().replaced(model_store_uri=str(store_dir), bank_id=DEMO_BANK)
    keys = KeyRing.from_settings(settings)
    registry = Registry(open_store(str(store_dir)), keys, Policy.from_settings(settings))
    version = registry.publish(DEMO_BANK, *read_model_dir(model_dir))
    print(f"4/5 published {DEMO_BANK}/{version} to {store_dir}, signed with {_key(keys)}")
    service.configure(settings)
    print("5/5 the three examples of the original service, through the Lambda handler:")
    for name in local.EXAMPLES:
        answer_example(name)
    print(f"next: bankreco serve --store {store_dir} --bank {DEMO_BANK}  (Swagger UI at /swagger)")
    return 0


def _key(keys: KeyRing) -> str:
    """Where the demo bank's signing key is (a local pair is made on first publish)."""
    if DEMO_BANK in keys.kms.key_ids:
        return f"KMS key {keys.kms.key_ids[DEMO_BANK]}"
    return f"the local key pair in {keys.local.directory(DEMO_BANK)}"


def answer_example(name: str) -> None:
    """Print the handler's answer to one of the packaged example events."""
    response = local.invoke(local.example_event(name))
    body = json.loads(response["body"])
    products = [f"{r['product']} ({r['score']:.3f})" for r in body.get("recommendations", [])]
    print(f"  events/{name}: HTTP {response['statusCode']}")
    print("    " + ("\n    ".join(products) if products else json.dumps(body)))
