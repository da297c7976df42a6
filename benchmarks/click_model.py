"""The simulated user's click model, shared by every benchmark that simulates users.

A position-biased cascade-free model: the user scans the results top-down and clicks each
relevant result at 1-based rank r with probability

    p(click | relevant, r) = p0 / r ** eta      (capped at 1)

and never clicks an irrelevant one. `eta` is the position bias (0: rank does not matter).
Every draw comes from one `random.Random(seed)`, so a run is reproducible from its seed.
"""

from __future__ import annotations

import random
from collections.abc import Container, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PositionBiasedClickModel:
    """p(click | relevant, rank r) = p0 / r ** eta for 1-based r; irrelevant: never."""

    p0: float = 1.0
    eta: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.p0 <= 1.0:
            raise ValueError(f"p0 must be in (0, 1], got {self.p0}")
        if self.eta < 0.0:
            raise ValueError(f"eta must be >= 0, got {self.eta}")

    def click_probability(self, rank: int, relevant: bool) -> float:
        """The probability of a click on a result at 1-based `rank`."""
        if rank < 1:
            raise ValueError(f"ranks start at 1, got {rank}")
        return min(1.0, self.p0 / rank**self.eta) if relevant else 0.0

    def clicks(
        self, shown: Sequence[str], relevant: Container[str], rng: random.Random
    ) -> list[str]:
        """The results a user clicks, top-down; one draw per relevant result shown."""
        return [
            object_id
            for rank, object_id in enumerate(shown, start=1)
            if object_id in relevant and rng.random() < self.click_probability(rank, True)
        ]

    def describe(self) -> str:
        return (
            f"users scan top-down and click a relevant result at rank r with probability "
            f"{self.p0:g} / r^{self.eta:g} (irrelevant results: never)"
        )
