"""Generated Santander-format files, made once in the work directory, and a workaround for
files `bankreco train` cannot learn from.

The workaround, reported wherever it is used: a HistGradientBoostingClassifier fit (`bankreco
train`'s, or the naive pipeline's) fails on a file in which some product is added exactly once:
early stopping, on above 10,000 examples, splits the examples stratified by product, and a
class of one example cannot be split. The harness then removes the customers behind such lone
additions and says so.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Final

import numpy as np

SEED: Final = 11
MARKER: Final = "least populated class"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def generated(path: Path, customers: int, seed: int = SEED) -> Path:
    """A generated Santander-format file, made once."""
    from bankreco.data.generate import generate

    done = path.with_suffix(".done")
    if not done.exists():
        log(f"generating {customers:,} customers -> {path}")
        result = generate(path, customers, seed)
        done.write_text(json.dumps({"rows": result.rows, "customers": customers}))
    return path


def generated_rows(path: Path) -> int:
    rows: int = json.loads(path.with_suffix(".done").read_text())["rows"]
    return rows


def is_lone_class_error(text: str) -> bool:
    """Whether an error message is the stratified-split failure on a one-example class."""
    return MARKER in text


def _lone_customers(data: Path) -> tuple[set[int], set[str]]:
    """Customers to drop so that no product is added exactly once in `data`, and the
    products that were."""
    from bankreco.catalog import PRODUCT_CODES
    from bankreco.data.reader import list_months, read_snapshots
    from bankreco.training.dataset import month_pair
    from bankreco.training.train import default_months

    frame = read_snapshots(data).frame
    pairs = [month_pair(frame, m) for m in default_months(list_months(data), all_months=True)]
    dropped: set[int] = set()
    products: set[str] = set()
    for _ in range(10):  # dropping a customer can leave another product with one addition
        counts: Counter[int] = Counter()
        owner: dict[int, int] = {}
        for pair in pairs:
            kept = ~np.isin(pair.ncodpers, list(dropped))
            rows, cols = np.nonzero(pair.added & kept[:, None])
            counts.update(cols.tolist())
            owner.update(zip(cols.tolist(), pair.ncodpers[rows].tolist(), strict=True))
        lone = [col for col, n in counts.items() if n == 1]
        if not lone:
            break
        dropped.update(owner[col] for col in lone)
        products.update(PRODUCT_CODES[col] for col in lone)
    return dropped, products


def without_lone_additions(data: Path, failed: str) -> tuple[Path, str]:
    """A copy of `data` without the customers whose addition is the only one of its product,
    made once; and a note saying that `failed` (the fit) failed and what was removed."""
    out = data.with_name(f"{data.stem}.no-lone.csv")
    done = out.with_suffix(".done")
    if not done.exists():
        customers, products = _lone_customers(data)
        kept = removed = 0
        with data.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
            target.write(source.readline())
            for line in source:
                if int(float(line.split(",", 2)[1].strip().strip('"'))) in customers:
                    removed += 1
                    continue
                target.write(line)
                kept += 1
        facts = {"rows": kept, "removed": removed, "customers": len(customers)}
        done.write_text(json.dumps({**facts, "products": sorted(products)}))
    facts = json.loads(done.read_text())
    note = (
        f"{failed} failed on `{data.name}` ({generated_rows(data):,} rows): "
        f"{', '.join(facts['products'])} is added exactly once, and the stratified "
        "early-stopping split of HistGradientBoostingClassifier cannot split a class of one "
        f"example. The harness removed the {facts['customers']} customer(s) behind it "
        f"({facts['removed']} rows) and used `{out.name}` instead."
    )
    return out, note
