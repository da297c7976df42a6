"""Deterministic assignment of units (users, or sessions without a user) to variants.

A unit's place is a stable hash (SHA-256, not Python's per-process `hash()`) of the
experiment id, a purpose and the unit, read as a fraction in [0, 1): the same unit gets
the same variant in every process and on every page; two experiments (or the exposure and
the variant draws of one experiment) are independent of each other.
"""

from __future__ import annotations

import hashlib

from embedding_studio.online_experiments.models import (
    Assignment,
    Experiment,
    ExperimentMode,
    Team,
)

_SCALE = float(1 << 64)


def unit_fraction(experiment_id: str, purpose: str, unit: str) -> float:
    """A fraction in [0, 1), uniform over units and fixed for (experiment, purpose, unit)."""
    key = "\x1f".join((experiment_id, purpose, unit)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / _SCALE


def is_exposed(experiment: Experiment, unit: str) -> bool:
    return unit_fraction(experiment.experiment_id, "exposure", unit) < experiment.exposure


def ab_team(experiment: Experiment, unit: str) -> Team:
    """The variant an `ab` unit sees: B for a `b_share` of the units."""
    return (
        "b"
        if unit_fraction(experiment.experiment_id, "variant", unit) < experiment.b_share
        else "a"
    )


def assign(experiment: Experiment, unit: str) -> Assignment | None:
    """The unit's assignment, or None when it is outside the experiment's exposure."""
    if not is_exposed(experiment, unit):
        return None
    team = ab_team(experiment, unit) if experiment.mode is ExperimentMode.ab else None
    return Assignment(experiment=experiment, unit=unit, team=team)
