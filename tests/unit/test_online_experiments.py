"""Assignment, team-draft interleaving, significance figures and the report (pure code)."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys

import pytest
from pydantic import ValidationError

from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.assignment import assign, unit_fraction
from embedding_studio.online_experiments.interleaving import team_draft
from embedding_studio.online_experiments.models import (
    Experiment,
    ServedResult,
    ServedSearch,
)
from embedding_studio.online_experiments.report import build_report
from embedding_studio.online_experiments.statistics import (
    mean_difference_p_value,
    sign_test_p_value,
    two_proportion_p_value,
)


def experiment(mode: str = "ab", **fields: object) -> Experiment:
    values: dict = {
        "experiment_id": "exp-1",
        "mode": mode,
        "variant_a": "model-a",
        "variant_b": "model-b",
        "created_at": utc_now(),
    }
    return Experiment(**{**values, **fields})


# --- assignment ----------------------------------------------------------------------


def test_assignment_is_a_stable_hash_not_pythons_per_process_hash():
    script = (
        "from embedding_studio.online_experiments.assignment import unit_fraction;"
        "print(repr(unit_fraction('exp-1', 'variant', 'user-42')))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert seen == {repr(unit_fraction("exp-1", "variant", "user-42"))}
    # Pinned: a change of the hash would move every running experiment's users.
    digest = hashlib.sha256(b"exp-1\x1fvariant\x1fuser-42").digest()
    assert unit_fraction("exp-1", "variant", "user-42") == int.from_bytes(digest[:8]) / 2**64
    assert unit_fraction("exp-1", "variant", "user-42") == pytest.approx(0.65026399, abs=1e-8)


def test_assignment_follows_the_split_and_the_exposure():
    split = experiment(b_share=0.2, exposure=0.5)
    assigned = [assign(split, f"user-{i}") for i in range(4000)]
    exposed = [a for a in assigned if a is not None]
    assert 0.46 < len(exposed) / 4000 < 0.54
    share_b = sum(a.team == "b" for a in exposed) / len(exposed)
    assert 0.17 < share_b < 0.23
    again = [assign(split, f"user-{i}") for i in range(4000)]
    assert [a and a.team for a in again] == [a and a.team for a in assigned]
    other = experiment(experiment_id="exp-2", b_share=0.2, exposure=0.5)
    differs = sum(
        (assign(other, f"user-{i}") is None) != (a is None) for i, a in enumerate(assigned)
    )
    assert differs > 1000  # experiments draw independently


def test_interleaving_assigns_no_team():
    assignment = assign(experiment("interleaving"), "user-1")
    assert assignment is not None and assignment.team is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"b_share": 1.0}, "b_share"),
        ({"b_share": 0.0}, "b_share"),
        ({"exposure": 0.0}, "exposure"),
        ({"b_share": "half"}, "b_share"),
        ({"variant_b": "model-a"}, "variant_b"),
        ({"mode": "abc"}, "mode"),
    ],
)
def test_bad_definitions_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        experiment(**fields)


# --- team draft ----------------------------------------------------------------------

A = ["a1", "a2", "shared", "a3", "a4", "a5"]
B = ["shared", "b1", "b2", "b3", "b4", "b5"]


def test_team_draft_keeps_each_teams_order_and_balances_picks():
    for seed in (f"s{i}" for i in range(20)):
        merged = team_draft(A, B, 10, seed)
        ids = [object_id for object_id, _ in merged]
        assert len(ids) == len(set(ids)) == 10
        for team, ranking in (("a", A), ("b", B)):
            picked = [o for o, t in merged if t == team]
            assert picked == [o for o in ranking if o in picked]  # in the team's order
        for end in range(1, 11):
            teams = [t for _, t in merged[:end]]
            assert abs(teams.count("a") - teams.count("b")) <= 1


def test_the_first_pick_of_each_round_is_a_coin_and_a_team_takes_its_best_free_result():
    firsts = {team_draft(A, B, 1, f"s{i}")[0] for i in range(40)}
    assert firsts == {("a1", "a"), ("shared", "b")}
    merged = team_draft(["x", "y"], ["x", "z"], 3, "seed")
    assert sorted(o for o, _ in merged) == ["x", "y", "z"]
    assert [t for o, t in merged if o in ("y", "z")] == [
        "a" if o == "y" else "b" for o, _ in merged if o in ("y", "z")
    ]


def test_pages_are_slices_of_one_list():
    """Page 2 built from top-(offset + limit) lists continues page 1 exactly."""
    seed = 'exp-1\x1fuser-1\x1f"query"'
    full = team_draft(A, B, 12, seed)
    for length in range(1, 12):
        assert team_draft(A[:length], B[:length], length, seed) == full[:length]


def test_an_exhausted_ranking_leaves_the_other_to_pick():
    merged = team_draft(["a1"], ["b1", "b2", "b3"], 10, "seed")
    assert sorted(merged) == [("a1", "a"), ("b1", "b"), ("b2", "b"), ("b3", "b")]
    assert team_draft([], [], 5, "seed") == []


# --- statistics ----------------------------------------------------------------------


def test_sign_test_is_the_exact_binomial_tail():
    assert sign_test_p_value(9, 1) == pytest.approx(2 * 11 / 1024)
    assert sign_test_p_value(1, 9) == pytest.approx(2 * 11 / 1024)
    assert sign_test_p_value(5, 5) == 1.0
    assert sign_test_p_value(10, 0) == pytest.approx(2 / 1024)
    assert sign_test_p_value(0, 0) is None
    tail = sum(math.comb(300, k) for k in range(131)) / 2**300
    assert sign_test_p_value(170, 130) == pytest.approx(2 * tail, rel=1e-9)


def test_two_proportion_and_mean_difference_tests():
    # 30/100 vs 45/100: pooled p = 0.375, z = 0.15 / sqrt(0.375 * 0.625 * 0.02)
    z = 0.15 / math.sqrt(0.375 * 0.625 * 0.02)
    assert two_proportion_p_value(30, 100, 45, 100) == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert two_proportion_p_value(0, 10, 0, 10) is None
    assert two_proportion_p_value(1, 0, 1, 10) is None
    assert mean_difference_p_value([1.0, 1.0], [1.0, 1.0]) is None
    assert mean_difference_p_value([0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]) == pytest.approx(1.0)
    assert mean_difference_p_value([0.0], [1.0, 0.0]) is None


# --- report --------------------------------------------------------------------------


def served(session_id: str, variant: str, teams: str) -> ServedSearch:
    """Results x0, x1, ... at positions 0, 1, ..., with teams from a string ("abba")."""
    results = tuple(ServedResult(f"x{i}", i, team) for i, team in enumerate(teams))  # type: ignore[arg-type]
    return ServedSearch("exp-1", session_id, session_id, variant, results)  # type: ignore[arg-type]


def test_interleaving_report_credits_each_click_to_its_team():
    searches = [
        served("s1", "interleaved", "abba"),  # x1 clicked: B wins
        served("s2", "interleaved", "baab"),  # x0 (b) and x1 (a): tie
        served("s3", "interleaved", "abab"),  # no click
        served("s4", "interleaved", "abab"),  # x0, x2 (a) and x3 (b): A wins
    ]
    clicks = {"s1": {"x1"}, "s2": {"x0", "x1"}, "s4": {"x0", "x2", "x3"}}
    report = build_report(experiment("interleaving"), searches, clicks)
    outcome = report.interleaving
    assert outcome is not None
    assert (outcome.b_wins, outcome.a_wins, outcome.ties, outcome.no_clicks) == (1, 1, 1, 1)
    assert outcome.p_value == 1.0 and report.winner is None and report.ab is None
    a, b = report.variants["a"], report.variants["b"]
    assert (a.searches, a.shown, a.clicks) == (4, 8, 3)
    assert (b.searches, b.shown, b.clicks) == (4, 8, 3)
    assert a.mean_reciprocal_rank == pytest.approx((0 + 1 / 2 + 0 + 1) / 4)
    assert b.mean_reciprocal_rank == pytest.approx((1 / 2 + 1 + 0 + 1 / 4) / 4)
    assert a.zero_click_share == 0.5 and b.zero_click_share == 0.25
    assert a.ctr == pytest.approx(3 / 8)
