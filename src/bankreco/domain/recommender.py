"""The domain: rank the products each customer is most likely to add next, with the model
that answers them: the bank's champion, or its challenger for the customers routed to it
(bankreco.domain.traffic)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from bankreco.domain import traffic
from bankreco.domain.cache import ModelCache, Serving
from bankreco.domain.model import LoadedModel
from bankreco.domain.profile import Profile, encode_profiles, owned_matrix
from bankreco.domain.ranking import top_products
from bankreco.domain.reasons import Reason, explain_products
from bankreco.errors import BankrecoError, ExplanationUnavailable, NoModelCard, UnknownBank
from bankreco.ids import check_bank
from bankreco.observability import record_served
from bankreco.settings import Settings

Numbered = tuple[int, Profile]


class Ranked(NamedTuple):
    """The answers of one model version of a bank: per profile, its top_k catalog columns
    (indexes into catalog.PRODUCT_CODES) and their scores, best first, without the products it
    holds."""

    bank: str
    version: str
    products: list[list[int]]
    scores: list[list[float]]
    #: Per profile that asked for them, per product, its reasons (None: not asked).
    reasons: list[list[list[Reason]] | None] | None = None


class Group(NamedTuple):
    """Profiles of a batch answered together: their positions, the bank that answers them
    (None when the bank they name is refused) and the outcome, whose version made it."""

    indexes: list[int]
    profiles: list[Profile]
    bank: str | None
    outcome: Ranked | BankrecoError


class Recommender:
    """Answers recommendation requests for the banks this stage serves."""

    def __init__(
        self, settings: Settings, cache: ModelCache, draw: traffic.Draw | None = None
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.draw = draw or random.random  # routes the customers without an id
        self._cards: dict[tuple[str, str], str] = {}  # (bank, version) -> its model card

    def bank_for(self, requested: str | None) -> str:
        """The bank that answers: the request's own, if this stage serves it, or the stage's."""
        bank = check_bank(requested or self.settings.bank_id)
        if bank not in self.settings.banks:
            raise UnknownBank(f"bank {bank!r} is not served by this stage")
        return bank

    def recommend(self, profile: Profile) -> Ranked:
        """The ranked answer for one customer (one row), by the model routed to."""
        bank = self.bank_for(profile.bank)
        [(model, role, _)] = self._split(bank, [(0, profile)])
        return self.rank(model, [profile], role)

    def recommend_each(self, profiles: Sequence[Numbered]) -> Iterator[Group]:
        """Numbered profiles grouped by the model that answers them (per bank, its champion
        and its challenger), each group ranked at once; a group that cannot be answered
        carries its error, and the others go on."""
        for bank, group in self._by_bank(profiles).items():
            if isinstance(bank, BankrecoError):
                yield Group([i for i, _ in group], [p for _, p in group], None, bank)
                continue
            try:
                parts = self._split(bank, group)
            except BankrecoError as exc:
                yield Group([i for i, _ in group], [p for _, p in group], bank, exc)
                continue
            for model, role, part in parts:
                indexes, members = [i for i, _ in part], [p for _, p in part]
                try:
                    yield Group(indexes, members, bank, self.rank(model, members, role))
                except BankrecoError as exc:
                    yield Group(indexes, members, bank, exc)

    def _split(
        self, bank: str, group: Sequence[Numbered]
    ) -> list[tuple[LoadedModel, str, list[Numbered]]]:
        """`group` split by the model routed to: the champion's part, then the challenger's
        (an empty part left out)."""
        serving = self.cache.serving(bank)
        if serving.challenger is None:
            return [(serving.champion, traffic.CHAMPION, list(group))]
        champions: list[Numbered] = []
        challengers: list[Numbered] = []
        for item in group:
            routed = traffic.to_challenger(bank, item[1].customer_id, serving.share, self.draw)
            (challengers if routed else champions).append(item)
        parts = [
            (serving.champion, traffic.CHAMPION, champions),
            (serving.challenger, traffic.CHALLENGER, challengers),
        ]
        return [part for part in parts if part[2]]

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
        """The champion the stage serves for `bank`."""
        return self.cache.get(self.bank_for(bank))

    def serving(self, bank: str | None) -> Serving:
        """The champion and the challenger the stage serves for `bank`."""
        return self.cache.serving(self.bank_for(bank))

    def rank(
        self, model: LoadedModel, profiles: Sequence[Profile], role: str = traffic.CHAMPION
    ) -> Ranked:
        """Score `profiles` with `model` and rank each one's products; counted as answers of
        the model's version in its `role`."""
        if not profiles:
            return Ranked(model.bank, model.version, [], [])
        owned = owned_matrix(profiles)
        top_k = np.fromiter((p.top_k for p in profiles), dtype=np.intp, count=len(profiles))
        encoded = encode_profiles(profiles, owned)
        top = top_products(model, encoded, owned, top_k)
        products, kept = top.products.tolist(), top.scores.tolist()
        if (top.counts < top.products.shape[1]).any():
            keep = top.counts.tolist()
            products = [row[:k] for row, k in zip(products, keep, strict=True)]
            kept = [row[:k] for row, k in zip(kept, keep, strict=True)]
        reasons = _reasons(model, profiles, encoded, products)
        record_served(model.bank, model.version, role, len(profiles))
        return Ranked(model.bank, model.version, products, kept, reasons)

    def model_card(self, bank: str | None) -> tuple[str, str]:
        """The champion's version and its model card (Markdown), read from the store and
        verified against the signed manifest once per version."""
        model = self.current_model(bank)
        card = model.manifest.card
        if card is None:
            raise NoModelCard(f"{model.bank}/{model.version} has no model card: format=card")
        key = (model.bank, model.version)
        if key not in self._cards:
            data = self.cache.read_file(model.bank, model.version, card.file)
            self._cards[key] = data.decode("utf-8", errors="replace")
        return model.version, self._cards[key]


def _reasons(
    model: LoadedModel, profiles: Sequence[Profile], encoded: np.ndarray, products: list[list[int]]
) -> list[list[list[Reason]] | None] | None:
    """The reasons of the profiles that ask for them (None for the others), or None if none
    does: explaining costs nothing unless asked."""
    asked = [i for i, profile in enumerate(profiles) if profile.explain]
    if not asked:
        return None
    fields = [vars(profiles[i]) for i in asked]
    try:
        found = explain_products(
            model.estimator, encoded[asked], fields, [products[i] for i in asked]
        )
    except ExplanationUnavailable as exc:
        raise ExplanationUnavailable(f"explain: {model.bank}/{model.version}: {exc}") from exc
    reasons: list[list[list[Reason]] | None] = [None] * len(profiles)
    for i, explained in zip(asked, found, strict=True):
        reasons[i] = explained
    return reasons
