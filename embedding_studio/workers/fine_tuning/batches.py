"""Which sessions, items and texts one training step (or one evaluation) uses, and the
ranks the model gives them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface
from embedding_studio.workers.fine_tuning.ranking_space import RankingSpace

TextsOf = Callable[[str], list[str]]
"""Item id -> the texts (parts) the model embeds for it."""


@dataclass
class BatchPlan:
    """Sessions of a step, the negatives each uses, and the distinct items involved.

    `item_ids` holds every positive and chosen negative once, in first-use order;
    `column[object_id]` is its column in the [Q, M] ranks."""

    sessions: list[FineTuningInput]
    negatives: list[list[str]]
    item_ids: list[str]

    @cached_property
    def column(self) -> dict[str, int]:
        return {item_id: j for j, item_id in enumerate(self.item_ids)}


def _sample_in_order(values: list[str], share: float, rng: random.Random | None) -> list[str]:
    if not values or share >= 1.0 or rng is None:
        return list(values)
    count = max(1, round(share * len(values)))
    keep = set(rng.sample(range(len(values)), count))
    return [value for index, value in enumerate(values) if index in keep]


def plan_batch(
    sessions: Sequence[FineTuningInput],
    known: Callable[[str], bool],
    negative_share: float = 1.0,
    use_irrelevant: bool = True,
    rng: random.Random | None = None,
) -> BatchPlan:
    """Keep the sessions with something to learn (clicks; irrelevant ones only when
    `use_irrelevant`), their known items, and a `negative_share` of each session's
    negatives (at least one, drawn with `rng`; all of them without `rng`)."""
    kept: list[FineTuningInput] = []
    negatives: list[list[str]] = []
    items: dict[str, None] = {}
    for session in sessions:
        if not session.has_positives and not (use_irrelevant and session.is_irrelevant):
            continue
        positives = [i for i in session.events if known(i)]
        pool = [i for i in session.not_events if known(i)]
        chosen = _sample_in_order(pool, negative_share, rng)
        if not positives and not chosen:
            continue
        kept.append(session)
        negatives.append(chosen)
        items.update(dict.fromkeys(positives + chosen))
    return BatchPlan(sessions=kept, negatives=negatives, item_ids=list(items))


def _embed_in_chunks(
    forward: Callable[[list[str]], torch.Tensor], texts: list[str], chunk: int | None
) -> torch.Tensor:
    if chunk is None or len(texts) <= chunk:
        return forward(texts)
    return torch.cat([forward(texts[i : i + chunk]) for i in range(0, len(texts), chunk)])


def rank_items(
    model: EmbeddingsModelInterface,
    queries: list[str],
    item_ids: list[str],
    texts_of: TextsOf,
    space: RankingSpace,
    chunk: int | None = None,
) -> torch.Tensor:
    """[Q, M] ranks of the items for the queries, through `model.forward_query` and
    `model.forward_items` (with gradients unless called under no_grad)."""
    texts: list[str] = []
    owners: list[list[int]] = []
    for item_id in item_ids:
        parts = texts_of(item_id)
        if not parts:
            raise ValueError(f"item {item_id!r} has no text to embed")
        owners.append(list(range(len(texts), len(texts) + len(parts))))
        texts.extend(parts)
    query_vectors = _embed_in_chunks(model.forward_query, queries, chunk)
    part_vectors = _embed_in_chunks(model.forward_items, texts, chunk)
    return space.item_ranks(query_vectors, part_vectors, owners)
