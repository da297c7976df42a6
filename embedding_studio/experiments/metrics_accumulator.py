"""Running aggregates of one training metric, as logged to MLflow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import SupportsFloat


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


class MetricsAccumulator:
    """Collects values of metric `name` and reports the last one plus aggregates.

    `aggregate()` returns `[(name, last value)]` followed, when enabled, by
    `("mean_<name>", mean of all values)`, `("sliding_<name>", mean of the last
    window_size values)`, `("min_<name>", ...)` and `("max_<name>", ...)`; it returns []
    before the first value. Values may be floats or one-element tensors.

    :param name: metric name, e.g. "train_loss"
    :param calc_mean: report the mean of all values
    :param calc_sliding: report the mean of the last `window_size` values
    :param calc_min: report the minimum
    :param calc_max: report the maximum
    :param window_size: length of the sliding window (> 0)
    """

    def __init__(
        self,
        name: str,
        calc_mean: bool = False,
        calc_sliding: bool = False,
        calc_min: bool = False,
        calc_max: bool = False,
        window_size: int = 10,
    ) -> None:
        if not name:
            raise ValueError("a metric needs a name")
        if window_size <= 0:
            raise ValueError(f"window_size must be > 0, got {window_size}")
        self.name = name
        self.calc_mean = calc_mean
        self.calc_sliding = calc_sliding
        self.calc_min = calc_min
        self.calc_max = calc_max
        self.window_size = window_size
        self._values: list[float] = []

    @property
    def values(self) -> list[float]:
        return list(self._values)

    @property
    def metric_names(self) -> list[str]:
        """Every name `aggregate()` can report, in order."""
        flags = [
            ("mean", self.calc_mean),
            ("sliding", self.calc_sliding),
            ("min", self.calc_min),
            ("max", self.calc_max),
        ]
        return [self.name] + [f"{prefix}_{self.name}" for prefix, on in flags if on]

    def accumulate(self, value: SupportsFloat) -> list[tuple[str, float]]:
        """Add one value; returns `aggregate()` after it."""
        self._values.append(float(value))
        return self.aggregate()

    def aggregate(self) -> list[tuple[str, float]]:
        if not self._values:
            return []
        values = self._values
        result = [(self.name, values[-1])]
        if self.calc_mean:
            result.append((f"mean_{self.name}", _mean(values)))
        if self.calc_sliding:
            result.append((f"sliding_{self.name}", _mean(values[-self.window_size :])))
        if self.calc_min:
            result.append((f"min_{self.name}", min(values)))
        if self.calc_max:
            result.append((f"max_{self.name}", max(values)))
        return result

    def clear(self) -> None:
        self._values.clear()

    def __repr__(self) -> str:
        return f"MetricsAccumulator({self.name!r}, values={len(self._values)})"
