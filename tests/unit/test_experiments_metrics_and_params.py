"""MetricsAccumulator maths, INITIAL_PARAMS isolation, FineTuningSettings, RetryConfig."""

from __future__ import annotations

import importlib

import pytest
import torch
from pydantic import ValidationError

from embedding_studio.embeddings.inference.retry import RetryConfig, RetryParams, call_with_retry
from embedding_studio.experiments.finetuning_settings import FineTuningSettings
from embedding_studio.experiments.metrics_accumulator import MetricsAccumulator


def test_accumulator_reports_last_value_and_enabled_aggregates() -> None:
    accumulator = MetricsAccumulator(
        "loss", calc_mean=True, calc_sliding=True, calc_min=True, calc_max=True, window_size=2
    )
    assert accumulator.aggregate() == []
    for value in (4.0, 1.0, 2.0):
        reported = accumulator.accumulate(value)
    assert reported == accumulator.aggregate()
    assert dict(reported) == pytest.approx(
        {
            "loss": 2.0,
            "mean_loss": 7.0 / 3.0,
            "sliding_loss": 1.5,
            "min_loss": 1.0,
            "max_loss": 4.0,
        }
    )
    assert [name for name, _ in reported] == accumulator.metric_names


def test_accumulator_without_aggregates_reports_only_the_last_value() -> None:
    accumulator = MetricsAccumulator("test_loss")
    accumulator.accumulate(torch.tensor(0.25))
    accumulator.accumulate(0.5)
    assert accumulator.aggregate() == [("test_loss", 0.5)]
    accumulator.clear()
    assert accumulator.aggregate() == [] and accumulator.values == []


def test_sliding_window_longer_than_history_uses_all_values() -> None:
    accumulator = MetricsAccumulator("x", calc_sliding=True, window_size=10)
    accumulator.accumulate(1.0)
    accumulator.accumulate(3.0)
    assert dict(accumulator.aggregate())["sliding_x"] == 2.0


@pytest.mark.parametrize("kwargs", [{"name": ""}, {"name": "x", "window_size": 0}])
def test_accumulator_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MetricsAccumulator(**kwargs)


@pytest.mark.parametrize("module", ["clip", "text"])
def test_initial_params_updates_do_not_leak_between_plugins(module: str) -> None:
    path = f"embedding_studio.experiments.initial_params.{module}"
    first = importlib.import_module(path).INITIAL_PARAMS
    first.update({"batch_size": [16, 32]})
    first["margin"].append(123.0)

    from embedding_studio.experiments.initial_params import clip, text

    second = (clip if module == "clip" else text).INITIAL_PARAMS
    assert "batch_size" not in second
    assert 123.0 not in second["margin"]
    assert all(isinstance(values, list) and values for values in second.values())


def test_initial_params_from_import_is_a_fresh_dict_each_time() -> None:
    from embedding_studio.experiments.initial_params.clip import INITIAL_PARAMS as first
    from embedding_studio.experiments.initial_params.clip import INITIAL_PARAMS as second

    assert first == second and first is not second
    module = importlib.import_module("embedding_studio.experiments.initial_params.clip")
    assert not hasattr(module, "OTHER_NAME")


def test_fine_tuning_settings_takes_the_seed_arguments() -> None:
    loss = torch.nn.MarginRankingLoss()
    settings = FineTuningSettings(
        loss_func=loss, step_size=35, test_each_n_sessions=0.5, num_epochs=3
    )
    assert settings.loss_func is loss
    assert settings.test_each_n_sessions == 0.5 and settings.num_epochs == 3
    assert FineTuningSettings(loss_func=loss).step_size == 500
    with pytest.raises(ValidationError):
        FineTuningSettings(loss_func=loss, num_epochs=0)


def test_retry_config_names_and_default() -> None:
    config = RetryConfig(default_params=RetryParams(max_attempts=2))
    config["query_inference"] = RetryParams(max_attempts=5, wait_time_seconds=0.1)
    assert config["query_inference"].max_attempts == 5
    assert config["items_inference"].max_attempts == 2
    assert [config["query_inference"].wait_before(n) for n in (2, 3, 4)] == pytest.approx(
        [0.1, 0.2, 0.4]
    )


def test_call_with_retry_stops_on_success_or_non_retryable_errors() -> None:
    attempts: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("down")
        return "ok"

    params = RetryParams(max_attempts=3, wait_time_seconds=1.0, backoff_factor=2.0)
    retryable = lambda exc: isinstance(exc, ConnectionError)  # noqa: E731
    assert call_with_retry(flaky, params, retryable, sleep=sleeps.append) == "ok"
    assert sleeps == [1.0, 2.0]

    def broken() -> str:
        attempts.append(1)
        raise KeyError("bad input")

    attempts.clear()
    with pytest.raises(KeyError):
        call_with_retry(broken, params, retryable, sleep=sleeps.append)
    assert len(attempts) == 1
