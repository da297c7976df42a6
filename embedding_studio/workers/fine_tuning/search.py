"""Hyperparameter search with hyperopt over a plugin's `initial_params` space.

Each point is trained at most once per task: a point hyperopt proposes again, or one a
previous attempt of the task already finished, returns its recorded loss. hyperopt is
seeded per task, so a retried task proposes the same points in the same order.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from embedding_studio.workers.fine_tuning.state import params_key

logger = logging.getLogger(__name__)

Objective = Callable[[dict[str, Any]], float]
"""Trains one point; returns hyperopt's loss (lower is better)."""

MAX_PROPOSALS_PER_TRIAL = 20


def search_values(initial_params: dict[str, Any]) -> dict[str, list[Any]]:
    """Each name's candidate values (a non-list value is the only candidate)."""
    values = {}
    for name, candidates in initial_params.items():
        options = list(candidates) if isinstance(candidates, list | tuple) else [candidates]
        if not options:
            raise ValueError(f"initial_params[{name!r}] has no value to try")
        values[name] = options
    return values


def combinations(initial_params: dict[str, Any]) -> int:
    return math.prod(len(v) for v in search_values(initial_params).values())


def run_search(
    initial_params: dict[str, Any], max_evals: int, seed: int, objective: Objective
) -> int:
    """Train up to `max_evals` distinct points (fewer if the space is smaller);
    returns how many distinct points were evaluated."""
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

    values = search_values(initial_params)
    space = {name: hp.choice(name, list(range(len(v)))) for name, v in values.items()}
    target = min(max_evals, combinations(initial_params))
    losses: dict[str, float] = {}

    def evaluate(choice: dict[str, int]) -> dict[str, Any]:
        params = {name: values[name][int(index)] for name, index in choice.items()}
        key = params_key(params)
        if key not in losses:
            losses[key] = objective(params)
        return {"loss": losses[key], "status": STATUS_OK}

    trials = Trials()
    rstate = np.random.default_rng(seed)
    while len(losses) < target and len(trials.trials) < MAX_PROPOSALS_PER_TRIAL * target:
        fmin(
            evaluate,
            space,
            algo=tpe.suggest,
            max_evals=len(trials.trials) + 1,
            trials=trials,
            rstate=rstate,
            show_progressbar=False,
        )
    logger.info("hyperparameter search: %d points evaluated of %d asked", len(losses), max_evals)
    return len(losses)
