"""The evaluation report: Markdown and PNG plots written beside the model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bankreco.training.evaluate import REPORT_DIR, Evaluation

NAMES = {
    "model": "model",
    "demographics_only": "demographics only",
    "popularity": "most popular",
    "oracle": "oracle (true probabilities)",
    "perfect": "perfect",
}


def write_report(evaluation: Evaluation, model_dir: str | Path) -> Path:
    """Write report.md and its plots into `<model_dir>/report/`; return the Markdown path."""
    out = Path(model_dir) / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    _map_plot(evaluation, out / "map_at_7.png")
    _product_plot(evaluation, out / "per_product.png")
    _calibration_plot(evaluation, out / "calibration.png")
    scores = evaluation.map_at_7
    lines = [
        f"# Evaluation on {evaluation.month} ({evaluation.customers:,} customers)",
        "",
        "| ranking | MAP@7 | vs most popular |",
        "|---|---:|---:|",
        *(
            f"| {NAMES.get(k, k)} | {v:.5f} | {v / scores['popularity']:.2f}x |"
            for k, v in scores.items()
            if scores.get("popularity")
        ),
        "",
        "![MAP@7](map_at_7.png)",
        "",
        "| product | added | recommended | precision@7 | recall@7 |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['name']} (`{r['product']}`) | {r['added']} | {r['recommended']} "
            f"| {r['precision_at_7']:.3f} | {r['recall_at_7']:.3f} |"
            for r in evaluation.per_product
            if r["added"] or r["recommended"]
        ),
        "",
        "![per product](per_product.png)",
        "",
        "![calibration](calibration.png)",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _map_plot(evaluation: Evaluation, path: Path) -> None:
    items = list(evaluation.map_at_7.items())
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh([NAMES.get(k, k) for k, _ in items], [v for _, v in items], color="#3b75af")
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.4f}", va="center")
    ax.set_xlabel(f"MAP@7 on {evaluation.month}")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _product_plot(evaluation: Evaluation, path: Path) -> None:
    rows = [r for r in evaluation.per_product if r["added"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r["precision_at_7"] for r in rows], 0.4, label="precision@7")
    ax.bar([i + 0.2 for i in x], [r["recall_at_7"] for r in rows], 0.4, label="recall@7")
    ax.set_xticks(list(x), [r["product"].split("_")[1] for r in rows], rotation=60)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _calibration_plot(evaluation: Evaluation, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    points = evaluation.calibration
    ax.plot([0, 1], [0, 1], ls="--", color="grey")
    ax.plot([p["mean_score"] for p in points], [p["observed_rate"] for p in points], marker="o")
    ax.set_xlabel("mean predicted score (adders)")
    ax.set_ylabel("observed add rate")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
