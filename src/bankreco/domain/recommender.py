"""The domain: rank the products each customer is most likely to add next."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from bankreco.domain.cache import ModelCache
from bankreco.domain.model import LoadedModel
from bankreco.domain.profile import Profile, encode_profiles, owned_matrix
from bankreco.domain.ranking import top_products
from bankreco.errors import BankrecoError, UnknownBank
from bankreco.ids import check_bank
from bankreco.settings import Settings


class Ranked(NamedTuple):
    """The answers of one bank's model: per profile, its top_k catalog columns (indexes into
    catalog.PRODUCT_CODES) and their scores, best first, without the products it holds."""

    bank: str
    version: str
    products: list[list[int]]
    scores: list[list[float]]


class Group(NamedTuple):
    """Profiles of a batch routed together: their positions, the bank that answers them (None
    when the bank they name is refused) and the outcome."""

    indexes: list[int]
    profiles: list[Profile]
    bank: str | None
    outcome: Ranked | BankrecoError


class Recommender:
    """Answers recommendation requests for the banks this stage serves."""

    def __init__(self, settings: Settings, cache: ModelCache) -> None:
        self.settings = settings
        self.cache = cache

    def bank_for(self, requested: str | None) -> str:
        """The bank that answers: the request's own, if this stage serves it, or the stage's."""
        bank = check_bank(requested or self.settings.bank_id)
        if bank not in self.settings.banks:
            raise UnknownBank(f"bank {bank!r} is not served by this stage")
        return bank

    def recommend(self, profile: Profile) -> Ranked:
        """The ranked answer for one customer (one row)."""
        return self.rank(self.bank_for(profile.bank), [profile])

    def recommend_each(self, profiles: Sequence[tuple[int, Profile]]) -> Iterator[Group]:
        """Numbered profiles grouped by the bank that answers them, each group ranked at
        once; a group that cannot be answered carries its error, and the others go on."""
        for bank, group in self._by_bank(profiles).items():
            indexes = [i for i, _ in group]
            members = [profile for _, profile in group]
            if isinstance(bank, BankrecoError):
                yield Group(indexes, members, None, bank)
                continue
            try:
                yield Group(indexes, members, bank, self.rank(bank, members))
            except BankrecoError as exc:
                yield Group(indexes, members, bank, exc)

    def _by_bank(
        self, profiles: Sequence[tuple[int, Profile]]
    ) -> dict[str | BankrecoError, list[tuple[int, Profile]]]:
        """The profiles grouped by answering bank, each requested bank checked once; those
        naming a bank this stage does not serve are grouped under that error."""
        answering: dict[str | None, str | BankrecoError] = {}
        groups: dict[str | BankrecoError, list[tuple[int, Profile]]] = defaultdict(list)
        for i, profile in profiles:
            if profile.bank not in answering:
                try:
                    answering[profile.bank] = self.bank_for(profile.bank)
                except BankrecoError as exc:
                    answering[profile.bank] = exc
            groups[answering[profile.bank]].append((i, profile))
        return groups

    def current_model(self, bank: str | None) -> LoadedModel:
        """The model the stage serves for `bank`."""
        return self.cache.get(self.bank_for(bank))

    def rank(self, bank: str, profiles: Sequence[Profile]) -> Ranked:
        """Score `profiles` with `bank`'s model and rank each one's products."""
        model = self.cache.get(bank)
        if not profiles:
            return Ranked(bank, model.version, [], [])
        owned = owned_matrix(profiles)
        top_k = np.fromiter((p.top_k for p in profiles), dtype=np.intp, count=len(profiles))
        top = top_products(model, encode_profiles(profiles, owned), owned, top_k)
        products, kept = top.products.tolist(), top.scores.tolist()
        if (top.counts < top.products.shape[1]).any():
            keep = top.counts.tolist()
            products = [row[:k] for row, k in zip(products, keep, strict=True)]
            kept = [row[:k] for row, k in zip(kept, keep, strict=True)]
        return Ranked(bank, model.version, products, kept)
