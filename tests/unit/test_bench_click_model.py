"""The simulated users' click model: p(click | relevant, rank r) = p0 / r ** eta, seeded."""

from __future__ import annotations

import random

import pytest

from benchmarks.click_model import PositionBiasedClickModel


def test_probability_falls_with_rank_and_is_zero_for_irrelevant() -> None:
    model = PositionBiasedClickModel(p0=0.9, eta=1.0)
    assert model.click_probability(1, True) == pytest.approx(0.9)
    assert model.click_probability(3, True) == pytest.approx(0.3)
    assert model.click_probability(1, False) == 0.0
    probabilities = [model.click_probability(r, True) for r in range(1, 11)]
    assert probabilities == sorted(probabilities, reverse=True)


def test_no_position_bias_clicks_every_relevant_result_with_p0_one() -> None:
    model = PositionBiasedClickModel(p0=1.0, eta=0.0)
    shown = ["a", "b", "c", "d"]
    assert model.clicks(shown, {"b", "d"}, random.Random(0)) == ["b", "d"]


def test_clicks_are_reproducible_from_the_seed_and_only_on_relevant_results() -> None:
    model = PositionBiasedClickModel(p0=0.8, eta=0.7)
    shown = [f"doc{i}" for i in range(10)]
    relevant = {"doc0", "doc3", "doc7", "doc9"}
    runs = [
        [model.clicks(shown, relevant, rng) for _ in range(50)]
        for rng in (random.Random(5), random.Random(5))
    ]
    assert runs[0] == runs[1]
    assert all(set(clicked) <= relevant for clicked in runs[0])


def test_click_rate_matches_the_model() -> None:
    model = PositionBiasedClickModel(p0=1.0, eta=1.0)
    rng = random.Random(1)
    shown = ["x", "y", "z", "w"]  # the relevant result at rank 4: p = 0.25
    rate = sum(bool(model.clicks(shown, {"w"}, rng)) for _ in range(4000)) / 4000
    assert rate == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize(("p0", "eta"), [(0.0, 1.0), (1.5, 1.0), (0.5, -0.1)])
def test_invalid_parameters_are_refused(p0: float, eta: float) -> None:
    with pytest.raises(ValueError):
        PositionBiasedClickModel(p0=p0, eta=eta)


def test_description_names_the_parameters() -> None:
    text = PositionBiasedClickModel(p0=0.7, eta=0.5).describe()
    assert "0.7 / r^0.5" in text
