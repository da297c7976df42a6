"""Hyperparameter search spaces (`INITIAL_PARAMS`) plugins start from.

Each module's `INITIAL_PARAMS` is a fresh deep copy on every import or attribute read,
so a plugin that does `INITIAL_PARAMS.update(...)` changes only its own copy.
"""
