"""The domain alone: a Recommender over an in-memory store, with plain profile objects (no
HTTP, no request models)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.cache import ModelCache
from bankreco.domain.manifest import Manifest
from bankreco.domain.recommender import Recommender
from bankreco.domain.registry import Registry
from bankreco.errors import IntegrityError, ModelNotPublished, UnknownBank
from bankreco.settings import Settings
from tests.support.memory_store import MemoryStore

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@dataclass
class Customer:
    """A profile as any caller may hold it: the domain reads attributes, nothing more."""

    sexo: str = "H"
    age: int = 22
    segmento: str = "03 - UNIVERSITARIO"
    antiguedad: int = 34
    tiprel_1mes: str = "I"
    renta: float | None = 106885.8
    pais_residencia: str = "ES"
    ind_actividad_cliente: int = 0
    nomprov: str = "BALEARS, ILLES"
    owned_products: list[str] | None = None
    top_k: int = 7
    bank: str | None = None
    customer_id: str | None = None
    explain: bool = False


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def recommender(store: MemoryStore) -> Recommender:
    settings = Settings(bank_id="alpha", allowed_banks=frozenset({"beta"}))
    return Recommender(settings, ModelCache(Registry(store), 60, 10**9))


def test_ranks_by_the_models_scores_best_first(
    recommender: Recommender, store: MemoryStore, model_artifacts: Artifacts
) -> None:
    version = Registry(store).publish("alpha", *model_artifacts[0])
    ranked = recommender.recommend(Customer())
    assert (ranked.bank, ranked.version) == ("alpha", version)
    assert len(ranked.products[0]) == 7
    assert ranked.scores[0] == sorted(ranked.scores[0], reverse=True)
    model = recommender.current_model(None)
    expected = model.probabilities(
        features.encode(
            {k: [v] for k, v in vars(Customer()).items() if k in features.RAW_FIELDS}, None
        )
    )[0]
    top = [int(j) for j in np.argsort(-expected, kind="stable")[:7]]
    assert ranked.products[0] == top
    assert ranked.scores[0] == [round(float(expected[j]), 6) for j in top]


def test_owned_products_are_never_recommended_and_top_k_is_kept(
    recommender: Recommender, store: MemoryStore, model_artifacts: Artifacts
) -> None:
    Registry(store).publish("alpha", *model_artifacts[0])
    first = recommender.recommend(Customer())
    owned = [PRODUCT_CODES[j] for j in first.products[0][:3]]
    again = recommender.recommend(Customer(owned_products=owned, top_k=3))
    assert len(again.products[0]) == 3
    assert not {PRODUCT_CODES[j] for j in again.products[0]} & set(owned)
    everything = recommender.recommend(Customer(owned_products=list(PRODUCT_CODES), top_k=24))
    assert everything.products == [[]]


def test_a_bank_must_be_served_by_the_stage(
    recommender: Recommender, store: MemoryStore, model_artifacts: Artifacts
) -> None:
    with pytest.raises(UnknownBank, match="not served"):
        recommender.recommend(Customer(bank="gamma"))
    with pytest.raises(UnknownBank, match="invalid bank id"):
        recommender.recommend(Customer(bank="../alpha"))
    with pytest.raises(ModelNotPublished):
        recommender.recommend(Customer(bank="beta"))


def test_a_batch_is_grouped_per_bank_and_a_group_fails_alone(
    recommender: Recommender, store: MemoryStore, model_artifacts: Artifacts
) -> None:
    alpha = Registry(store).publish("alpha", *model_artifacts[0])
    customers = [Customer(), Customer(bank="beta"), Customer(bank="gamma"), Customer(age=70)]
    groups = {g.bank: g for g in recommender.recommend_each(list(enumerate(customers)))}
    assert groups.keys() == {"alpha", "beta", None}
    assert groups["alpha"].indexes == [0, 3]
    assert groups["alpha"].outcome.version == alpha  # type: ignore[union-attr]
    assert isinstance(groups["beta"].outcome, ModelNotPublished)
    assert (groups[None].indexes, type(groups[None].outcome)) == ([2], UnknownBank)


def test_non_finite_scores_are_an_integrity_error(
    recommender: Recommender, store: MemoryStore, model_artifacts: Artifacts
) -> None:
    Registry(store).publish("alpha", *model_artifacts[0])
    model = recommender.current_model("alpha")
    model.estimator = NanEstimator(model.estimator.classes_)
    with pytest.raises(IntegrityError, match="non-finite"):
        recommender.recommend(Customer())


class NanEstimator:
    """An estimator whose probabilities are all NaN."""

    def __init__(self, classes: np.ndarray) -> None:
        self.classes_ = classes

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.full((X.shape[0], len(self.classes_)), np.nan)
