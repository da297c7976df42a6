"""Search space for text-to-text models sharing one tower (E5, SBERT).

`from embedding_studio.experiments.initial_params.text import INITIAL_PARAMS` returns a
new deep copy each time: updating it never affects another plugin.
"""

from __future__ import annotations

from typing import Any

from embedding_studio.experiments.initial_params._space import SearchSpace, fresh_copy_getattr

_INITIAL_PARAMS: SearchSpace = {
    "num_fixed_layers": [0, 2, 4],
    "query_lr": [1e-5, 3e-5, 5e-5],
    "items_lr": [1e-5, 3e-5, 5e-5],
    "query_weight_decay": [0.0, 1e-6, 1e-5],
    "items_weight_decay": [0.0, 1e-6, 1e-5],
    "margin": [0.01, 0.025, 0.05],
    "not_irrelevant_only": [True, False],
    "negative_downsampling": [0.5, 0.2, 0.1],
    "min_abs_difference_threshold": [0.0],
    "max_abs_difference_threshold": [1.0],
    "examples_order": [[11]],
}

__all__ = ["INITIAL_PARAMS"]

__getattr__ = fresh_copy_getattr(__name__, _INITIAL_PARAMS)

INITIAL_PARAMS: Any  # provided by __getattr__ (a fresh copy on every access)
