"""`python -m bench.soak`: many requests from many threads, across many banks, through a
model cache smaller than their models together, while new versions are published.

Half the threads go through the WSGI application (`bankreco.api.wsgi`, the path `bankreco
serve` uses, which calls the handler one request at a time); the other half call the
domain's `Recommender` directly, so the cache and the store underneath serve many threads at
once. It reports errors, throughput, the RSS range, loads and evictions, and the most loads
of one (bank, version) that were ever under way at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bankreco.store import Blob
from bankreco.store.local import LocalStore
from bench.proc import peak_rss_mb


class WatchedStore(LocalStore):
    """A local store that counts, per (bank, version), the reads under way at once."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._lock = threading.Lock()
        self.in_flight: Counter[tuple[str, str]] = Counter()
        self.most_at_once = 0
        self.version_reads = 0

    def read(self, key: str) -> Blob:
        parts = key.split("/")
        if len(parts) < 4 or parts[1] != "versions":
            return super().read(key)
        version = (parts[0], parts[2])
        with self._lock:
            self.in_flight[version] += 1
            self.version_reads += 1
            self.most_at_once = max(self.most_at_once, self.in_flight[version])
        try:
            return super().read(key)
        finally:
            with self._lock:
                self.in_flight[version] -= 1


@dataclass
class Tally:
    """What the threads saw."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.ok += 1
            else:
                self.errors[error] += 1


@dataclass(frozen=True)
class Plan:
    requests: int
    banks: int
    threads: int
    cache_models: int  # the cache holds this many models' bytes
    ttl: float
    seed: int = 5


def _profile(rng: random.Random, bank: str) -> dict[str, Any]:
    return {
        "sexo": rng.choice("HV"),
        "age": rng.randint(18, 90),
        "segmento": rng.choice(["01 - TOP", "02 - PARTICULARES", "03 - UNIVERSITARIO"]),
        "antiguedad": rng.randint(0, 250),
        "tiprel_1mes": rng.choice("AI"),
        "renta": rng.choice([None, rng.uniform(10_000, 400_000)]),
        "pais_residencia": "ES",
        "ind_actividad_cliente": rng.randint(0, 1),
        "nomprov": rng.choice(["MADRID", "BARCELONA", "VALENCIA", "SEVILLA"]),
        "bank": bank,
    }


def _bank(rng: random.Random, banks: Sequence[str]) -> str:
    """A Zipf-like pick: a few hot banks, a long tail that keeps the cache evicting."""
    return banks[min(int(rng.paretovariate(1.2)) - 1, len(banks) - 1)]


def _through_wsgi(client: Any, body: dict[str, Any]) -> str | None:
    response = client.post("/recommendations", json=body)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    answer = json.loads(response.get_data())
    return None if answer["bank"] == body["bank"] else "answered for another bank"


def _through_domain(body: dict[str, Any]) -> str | None:
    from bankreco.api.schemas import CustomerProfile
    from bankreco.domain.service import get_recommender

    ranked = get_recommender().recommend(CustomerProfile.model_validate(body))
    return None if ranked.bank == body["bank"] and len(ranked.products[0]) else "wrong answer"


def _worker(index: int, plan: Plan, banks: list[str], app: Any, tally: Tally) -> None:
    from werkzeug.test import Client

    rng = random.Random(plan.seed * 1000 + index)
    client = Client(app)
    call = _through_domain if index % 2 else (lambda body: _through_wsgi(client, body))
    for _ in range(plan.requests // plan.threads):
        body = _profile(rng, _bank(rng, banks))
        try:
            tally.add(call(body))
        except Exception as exc:  # a soak counts every failure instead of stopping
            tally.add(f"{type(exc).__name__}: {str(exc)[:80]}")


def _sample_rss(tally: Tally, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        tally.rss_mb.append(_rss_mb())


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _republish(publish: Any, banks: list[str], stop: threading.Event) -> None:
    """New versions while the soak runs: each is swapped in at its bank's next revalidation."""
    turn = 0
    while not stop.wait(2.0):
        publish(banks[turn % len(banks)])
        turn += 1


def run(plan: Plan, model_dir: Path) -> dict[str, Any]:
    """Run `plan` against copies of the model in `model_dir`; the figures as plain data."""
    from bankreco.api.wsgi import Application
    from bankreco.domain import service
    from bankreco.domain.manifest import read_model_dir
    from bankreco.domain.registry import Policy, Registry
    from bankreco.settings import Settings
    from bankreco.signing.keys import KeyRing

    banks = [f"bank-{i:02d}" for i in range(plan.banks)]
    with TemporaryDirectory() as root:
        store = WatchedStore(Path(root))  # the function's reads; the publisher has its own
        artifacts = read_model_dir(model_dir)
        model_bytes = len(artifacts[1][artifacts[0].compact.file]) if artifacts[0].compact else 0
        settings = Settings.from_env().replaced(
            model_store_uri=root,
            bank_id=banks[0],
            allowed_banks=banks,
            model_ttl_seconds=plan.ttl,
            model_cache_max_bytes=max(1, model_bytes * plan.cache_models),
        )
        keys, policy = KeyRing.from_settings(settings), Policy.from_settings(settings)
        registry = Registry(LocalStore(root), keys, policy)
        for bank in banks:
            registry.publish(bank, *artifacts)
        service.configure(settings)
        service.get_recommender().cache.reconnect(store)
        return _drive(plan, banks, Application(), store, lambda b: registry.publish(b, *artifacts))


def _drive(
    plan: Plan, banks: list[str], app: Any, store: WatchedStore, publish: Any
) -> dict[str, Any]:
    tally, stop = Tally(), threading.Event()
    helpers = [
        threading.Thread(target=_sample_rss, args=(tally, stop), daemon=True),
        threading.Thread(target=_republish, args=(publish, banks, stop), daemon=True),
    ]
    workers = [
        threading.Thread(target=_worker, args=(i, plan, banks, app, tally))
        for i in range(plan.threads)
    ]
    started = time.perf_counter()
    for thread in helpers + workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - started
    stop.set()
    settled = tally.rss_mb[len(tally.rss_mb) // 4 :] or [_rss_mb()]
    return {
        "requests": tally.ok + sum(tally.errors.values()),
        "errors": dict(tally.errors),
        "seconds": seconds,
        "per_second": (tally.ok + sum(tally.errors.values())) / seconds,
        "rss_mb_range": [min(settled), max(settled)],
        "peak_rss_mb": peak_rss_mb(),
        "version_reads": store.version_reads,
        "most_loads_of_one_version_at_once": store.most_at_once,
    }


def trained_model(workdir: Path) -> Path:
    """A small model trained by the project's pipeline on generated data (cached)."""
    model_dir = workdir / "model"
    if not (model_dir / "manifest.json").is_file():  # in children: the soak's RSS is serving's
        data = workdir / "train.csv"
        cli = [sys.executable, "-m", "bankreco.cli"]
        generate = [*cli, "generate", "--out", str(data), "--customers", "4000", "--seed", "3"]
        subprocess.run([*generate, "--quiet"], check=True)
        train = [*cli, "train", "--data", str(data), "--out", str(model_dir), "--max-iter", "10"]
        subprocess.run([*train, "--quiet"], check=True)
    return model_dir


def markdown(plan: Plan, figures: dict[str, Any]) -> str:
    """The figures as the lines docs/reliability.md quotes."""
    low, high = figures["rss_mb_range"]
    return "\n".join(
        [
            f"- {figures['requests']:,} requests from {plan.threads} threads across "
            f"{plan.banks} banks, the cache holding {plan.cache_models} models, "
            f"TTL {plan.ttl:g} s, a new version published every 2 s",
            f"- errors: {sum(figures['errors'].values())} {figures['errors'] or ''}".rstrip(),
            f"- {figures['per_second']:,.0f} requests/s over {figures['seconds']:.0f} s",
            f"- RSS after the first quarter: {low:.0f}-{high:.0f} MB "
            f"(peak {figures['peak_rss_mb']:.0f} MB)",
            f"- version files read: {figures['version_reads']:,}; the most loads of one "
            f"(bank, version) under way at once: {figures['most_loads_of_one_version_at_once']}",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--model", type=Path, help="a model directory to serve (default: train a small one)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(".local/soak"), help="where the default model goes"
    )
    parser.add_argument("--requests", type=int, default=200_000, help="requests in total")
    parser.add_argument("--banks", type=int, default=20, help="banks the requests are spread on")
    parser.add_argument("--threads", type=int, default=16, help="threads sending requests")
    parser.add_argument("--cache-models", type=int, default=8, help="models the cache holds")
    parser.add_argument("--ttl", type=float, default=1.0, help="MODEL_TTL_SECONDS")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from bankreco.local import powertools_defaults

    powertools_defaults(quiet=True)  # no metric blobs or info logs on stdout
    plan = Plan(args.requests, args.banks, args.threads, args.cache_models, args.ttl)
    model = args.model or trained_model(args.workdir)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        figures = run(plan, model)  # metrics the domain threads count are flushed to stdout
    print(json.dumps(figures, indent=2))
    print(markdown(plan, figures))
    failed = figures["errors"] or figures["most_loads_of_one_version_at_once"] > 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
