import math

from embedding_studio.workers.fine_tuning.ranking_metrics import mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_is_one_for_the_ideal_ranking_and_discounts_lower_ranks() -> None:
    assert ndcg_at_k(["a", "b", "x"], {"a": 1, "b": 1}) == 1.0
    assert math.isclose(ndcg_at_k(["x", "a"], {"a": 1}), 1 / math.log2(3))
    assert ndcg_at_k(["x"], {}) == 0.0


def test_mrr_and_recall() -> None:
    assert mrr_at_k(["x", "y", "a"], {"a": 1}) == 1 / 3
    assert mrr_at_k(["x"], {"a": 1}) == 0.0
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, k=2) == 1 / 3
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1}, k=3) == 1.0
