"""What a fine-tuning task records: the best trial, and the quality gate."""

from __future__ import annotations

from embedding_studio.workers.fine_tuning.deployment import rejection
from embedding_studio.workers.fine_tuning.state import FineTuningState, TrialRecord, TrialStatus


def trial(index: int, value: float | None, ndcg: float, has_model: bool = True) -> TrialRecord:
    return TrialRecord(
        index=index,
        params={"learning_rate": index},
        run_id=f"run{index}",
        status=TrialStatus.done,
        metrics={"test_ndcg_at_10": ndcg},
        main_metric_value=value,
        has_model=has_model,
    )


def state(*trials: TrialRecord, baseline: float | None = 0.6) -> FineTuningState:
    return FineTuningState(
        trials=list(trials),
        baseline={} if baseline is None else {"test_ndcg_at_10": baseline},
        main_metric="test_ndcg_at_10",
        main_metric_is_loss=False,
    )


def test_best_trial_follows_the_metric_direction():
    recorded = state(trial(0, 0.5, 0.5), trial(1, 0.7, 0.7), trial(2, 0.9, 0.9, has_model=False))
    best, lowest = recorded.best_trial(is_loss=False), recorded.best_trial(is_loss=True)
    assert best is not None and best.run_id == "run1"  # run2 kept no model
    assert lowest is not None and lowest.run_id == "run0"


def test_trials_are_found_by_their_parameters():
    recorded = state(trial(0, 0.5, 0.5))
    assert recorded.trial({"learning_rate": 0}) is recorded.trials[0]
    assert recorded.trial({"learning_rate": 5}) is None


def test_gate_accepts_a_model_no_worse_than_the_starting_one():
    assert rejection(state(trial(0, 0.6, 0.6)), tolerance=0.0) is None
    assert rejection(state(trial(0, 0.65, 0.65)), tolerance=0.0) is None


def test_gate_rejects_a_worse_model_beyond_the_tolerance():
    reason = rejection(state(trial(0, 0.55, 0.55)), tolerance=0.01)
    assert reason is not None and "0.5500" in reason and "0.6000" in reason
    assert rejection(state(trial(0, 0.595, 0.595)), tolerance=0.01) is None


def test_gate_rejects_when_it_cannot_compare():
    assert "no held-out session" in str(rejection(state(trial(0, 0.6, 0.6), baseline=None), 0.0))
    assert "no trial" in str(rejection(state(), 0.0))


def test_state_survives_the_task_result_round_trip():
    recorded = state(trial(0, 0.5, 0.5))
    again = FineTuningState.model_validate(recorded.as_result())
    assert again == recorded
