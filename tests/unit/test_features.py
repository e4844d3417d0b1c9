"""Training and serving encode a customer the same way: one definition of the features."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bankreco import features
from bankreco.api.schemas import CustomerProfile
from bankreco.catalog import ALL_COLUMNS, PRODUCT_CODES
from bankreco.data.reader import read_snapshots
from bankreco.domain.profile import encode_profiles, owned_matrix
from bankreco.training.dataset import month_pair

ROW = {
    "ind_empleado": "N", "pais_residencia": "ES", "sexo": "V", "age": " 56",
    "fecha_alta": "1995-01-16", "ind_nuevo": "0", "antiguedad": "    256", "indrel": "1",
    "ult_fec_cli_1t": "", "indrel_1mes": "1.0",
    "tiprel_1mes": "A", "indresi": "S", "indext": "N", "conyuemp": "N", "canal_entrada": "KAT",
    "indfall": "N", "tipodom": "1", "cod_prov": "15.0", "nomprov": '"CORUÑA, A"',
    "ind_actividad_cliente": "1", "renta": "  326124.90", "segmento": "01 - TOP",
}  # fmt: skip


def write_csv(path: Path, renta: str) -> None:
    lines = [",".join(ALL_COLUMNS)]
    for month, held in (("2016-04-28", {"ind_cco_fin_ult1"}), ("2016-05-28", {"ind_recibo_ult1"})):
        row = {**ROW, "fecha_dato": month, "ncodpers": "15889", "renta": renta}
        row |= {code: "1" if code in held else "0" for code in PRODUCT_CODES}
        lines.append(",".join(row[c] for c in ALL_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_csv_row_and_an_api_request_encode_identically(tmp_path: Path) -> None:
    for renta, api_renta in (("  326124.90", 326124.9), ("NA", -99)):
        write_csv(tmp_path / "f.csv", renta)
        pair = month_pair(read_snapshots(tmp_path / "f.csv").frame, "2016-05-28")
        trained = pair.encode()
        profile = CustomerProfile.model_validate(
            {"sexo": "V", "age": 56, "segmento": "01 - TOP", "antigüedad": 256,
             "tiprel_1mes": "A", "renta": api_renta, "pais_residencia": "es",
             "ind_actividad_cliente": "1", "nomprav": "coruña, a",
             "owned_products": ["ind_cco_fin_ult1"]}
        )  # fmt: skip
        served = encode_profiles([profile], owned_matrix([profile]))
        np.testing.assert_array_equal(served, trained)


def test_encoding_of_unknowns_and_the_spec() -> None:
    X = features.encode(
        {name: [None] for name in features.RAW_FIELDS} | {"age": [np.nan]}, owned=None
    )
    assert X.shape == (1, len(features.FEATURE_NAMES))
    assert np.isnan(X).all()
    spec = features.spec()
    assert features.is_supported(spec)
    assert not features.is_supported({**spec, "sha256": "x"})
    assert spec["names"][: len(features.PROFILE_FEATURES)] == list(features.PROFILE_FEATURES)


def test_no_profiles_encode_to_no_rows() -> None:
    assert encode_profiles([]).shape == (0, len(features.FEATURE_NAMES))
