"""The naive way: the original Flask service's scikit-learn pipeline, one DataFrame a request.

A `Pipeline(ColumnTransformer(OneHotEncoder on the categorical profile fields, passthrough
numerics) -> HistGradientBoostingClassifier())` trained on the same addition examples as the
production model (the nine raw profile fields only), and per request `json.loads` -> a one-row
`pd.DataFrame` -> `predict_proba` -> the top 7 product codes.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankreco.features import RAW_FIELDS

CATEGORICAL: Final = ("sexo", "segmento", "tiprel_1mes", "pais_residencia", "nomprov")
NUMERIC: Final = ("age", "antiguedad", "renta", "ind_actividad_cliente")
ALIASES: Final = {"nomprov": "nomprav", "antiguedad": "antigüedad"}
TOP: Final = 7
MISSING: Final = "NA"


def addition_frame(data: Path, *, seed: int = 0) -> tuple[pd.DataFrame, npt.NDArray[np.str_]]:
    """The raw profile rows and labels of the examples `bankreco train --all-months` learns
    from: one row per (customer, product added), in the same order."""
    from bankreco.catalog import PRODUCT_CODES
    from bankreco.data.reader import list_months, read_snapshots
    from bankreco.training.dataset import month_pair, previous_month
    from bankreco.training.train import default_months

    months = default_months(list_months(data), all_months=True)
    needed = sorted({*months, *(previous_month(m) for m in months)})
    frame = read_snapshots(data, needed).frame
    parts, labels = [], []
    for month in months:
        pair = month_pair(frame, month)
        rows, cols = np.nonzero(pair.added)
        parts.append(pd.DataFrame({name: pair.profile[name][rows] for name in RAW_FIELDS}))
        labels.append(np.asarray(PRODUCT_CODES)[cols])
    examples = pd.concat(parts, ignore_index=True)
    return clean(examples), np.concatenate(labels)


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Column order and types the pipeline expects: strings (missing as "NA"), floats."""
    out = frame.reindex(columns=list(RAW_FIELDS))
    for name in CATEGORICAL:
        out[name] = out[name].astype(object).where(out[name].notna(), MISSING).astype(str)
    for name in NUMERIC:
        out[name] = pd.to_numeric(out[name], errors="coerce").astype(np.float64)
    return out


def build_pipeline(max_iter: int = 100, seed: int = 0) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(CATEGORICAL),
            ),
            ("numeric", "passthrough", list(NUMERIC)),
        ]
    )
    model = HistGradientBoostingClassifier(max_iter=max_iter, random_state=seed)
    return Pipeline([("encode", encode), ("model", model)])


def train_naive(data: Path, out: Path, *, max_iter: int = 100) -> dict[str, Any]:
    """Fit the naive pipeline on `data`'s addition examples and pickle it to `out`."""
    X, y = addition_frame(data)
    pipeline = build_pipeline(max_iter).fit(X, y)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL))
    return {"examples": len(y), "iterations": int(pipeline[-1].n_iter_)}


def request_frame(bodies: list[dict[str, Any]]) -> pd.DataFrame:
    """Request bodies as the pipeline's DataFrame (field aliases of the original API mapped)."""
    rows = [
        {name: body.get(name, body.get(ALIASES.get(name, name))) for name in RAW_FIELDS}
        for body in bodies
    ]
    return clean(pd.DataFrame(rows, columns=list(RAW_FIELDS)))


def top_products(pipeline: Any, frame: pd.DataFrame) -> list[list[str]]:
    proba = pipeline.predict_proba(frame)
    order = np.argsort(-proba, axis=1, kind="stable")[:, :TOP]
    classes = pipeline.classes_
    return [[str(classes[j]) for j in row] for row in order]


def answer(pipeline: Any, body: str) -> str:
    """One request of the original service: JSON body in, JSON answer out."""
    products = top_products(pipeline, request_frame([json.loads(body)]))[0]
    return json.dumps({"Predictions": " ".join(products)})


def answer_batch(pipeline: Any, body: str) -> str:
    """A batch as one DataFrame: `{"customers": [...]}` in, one answer per profile out."""
    customers = json.loads(body)["customers"]
    answers = top_products(pipeline, request_frame(customers))
    return json.dumps({"results": [{"Predictions": " ".join(p)} for p in answers]})


def load(path: Path) -> Any:
    return pickle.loads(path.read_bytes())
