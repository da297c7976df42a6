"""Search space for two-tower and CLIP-like models (the seeds import it for text too).

`from embedding_studio.experiments.initial_params.clip import INITIAL_PARAMS` returns a
new deep copy each time: updating it never affects another plugin.
"""

from __future__ import annotations

from typing import Any

from embedding_studio.experiments.initial_params._space import SearchSpace, fresh_copy_getattr

_INITIAL_PARAMS: SearchSpace = {
    "num_fixed_layers": [5, 6, 7, 8],
    "query_lr": [1e-4, 5e-4, 1e-3, 5e-3],
    "items_lr": [1e-4, 5e-4, 1e-3, 5e-3],
    "query_weight_decay": [0.0, 1e-6, 1e-5, 1e-4],
    "items_weight_decay": [0.0, 1e-6, 1e-5, 1e-4],
    "margin": [0.01, 0.025, 0.05],
    "not_irrelevant_only": [True, False],
    "negative_downsampling": [0.5, 0.2, 0.1, 0.05],
    "min_abs_difference_threshold": [0.0],
    "max_abs_difference_threshold": [1.0],
    "examples_order": [[11]],
}

__all__ = ["INITIAL_PARAMS"]

__getattr__ = fresh_copy_getattr(__name__, _INITIAL_PARAMS)

INITIAL_PARAMS: Any  # provided by __getattr__ (a fresh copy on every access)
