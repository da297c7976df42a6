"""Category selectors on hand-made distances, the category graph, and distances computed
from part vectors."""

from __future__ import annotations

import math

import pytest
import torch

from embedding_studio.embeddings.selectors.category_graph import (
    CategoryGraph,
    parent_ids_from_payload,
)
from embedding_studio.embeddings.selectors.dist_based_selector import DistBasedSelector
from embedding_studio.embeddings.selectors.distances import aggregated_distance
from embedding_studio.embeddings.selectors.hierarchical_selector import (
    HierarchicalCategorySelector,
)
from embedding_studio.embeddings.selectors.prob_dist_based_selector import ProbsDistBasedSelector
from embedding_studio.embeddings.selectors.selector import AbstractSelector
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)
from embedding_studio.models.embeddings.objects import ObjectWithDistance, SearchResultItem


def info(metric: MetricType, aggregation: MetricAggregationType = MetricAggregationType.MIN):
    return SearchIndexInfo(dimensions=2, metric_type=metric, metric_aggregation_type=aggregation)


def found(**distances: float) -> list[ObjectWithDistance]:
    return [ObjectWithDistance(object_id=k, distance=v, parts=[]) for k, v in distances.items()]


def test_distance_mode_keeps_categories_closer_than_the_margin() -> None:
    selector = DistBasedSelector(info(MetricType.COSINE), is_similarity=False, margin=0.3)
    categories = found(a=0.1, b=0.29, c=0.31, d=0.9)
    assert selector.select(categories) == [0, 1]
    assert selector.get_confidences(categories) == [1.0, 1.0, 0.0, 0.0]
    assert not selector.vectors_are_needed


def test_cosine_similarity_mode_keeps_similarity_above_one_minus_margin() -> None:
    selector = DistBasedSelector(info(MetricType.COSINE), is_similarity=True, margin=0.2)
    # cosine distance 0.1 -> similarity 0.9 (kept); 0.25 -> 0.75 (not)
    assert selector.select(found(a=0.1, b=0.25, c=0.6)) == [0]


def test_dot_similarity_is_minus_the_negative_inner_product() -> None:
    selector = DistBasedSelector(info(MetricType.DOT), is_similarity=True, margin=0.2)
    # pgvector's DOT distance is -<q, x>: inner products 1.5, 0.9, 0.5
    assert selector.select(found(a=-1.5, b=-0.9, c=-0.5)) == [0, 1]


def test_euclid_similarity_is_one_over_one_plus_distance() -> None:
    selector = DistBasedSelector(info(MetricType.EUCLID), is_similarity=True, margin=0.2)
    assert selector.select(found(a=0.1, b=1.0)) == [0]  # 1/1.1 = 0.91 > 0.8; 1/2 < 0.8


def test_scale_to_one_maps_cosine_similarity_into_zero_one() -> None:
    selector = DistBasedSelector(
        info(MetricType.COSINE), is_similarity=True, margin=0.3, scale_to_one=True
    )
    # distance 0.5 -> cosine 0.5 -> (0.5 + 1) / 2 = 0.75 > 0.7; distance 0.7 -> 0.65
    assert selector.select(found(a=0.5, b=0.7)) == [0]


def test_probs_selector_keeps_sigmoid_of_scaled_corrected_value_above_threshold() -> None:
    # The seed's configuration, positionally in the seed's order:
    # (search_index_info, is_similarity, margin, scale, prob_threshold, scale_to_one)
    selector = ProbsDistBasedSelector(info(MetricType.DOT), True, 0.2, 10.0, 0.985, False)
    categories = found(a=-1.3, b=-1.1, c=-0.2)  # inner products 1.3, 1.1, 0.2
    assert selector.select(categories) == [0]  # sigmoid(5) = 0.9933; sigmoid(3) = 0.9526
    confidences = selector.get_confidences(categories)
    expected = [1 / (1 + math.exp(-10 * (dot - 0.8))) for dot in (1.3, 1.1, 0.2)]
    assert confidences == pytest.approx(expected)


def test_probs_selector_with_keyword_arguments_as_in_seed_000() -> None:
    selector = ProbsDistBasedSelector(
        search_index_info=info(MetricType.COSINE),
        is_similarity=True,
        margin=0.5,
        scale=10.0,
        scale_to_one=False,
        prob_threshold=0.5,
    )
    assert selector.select(found(a=0.2, b=0.49, c=0.51, d=1.2)) == [0, 1]


def test_selectors_accept_an_empty_candidate_list() -> None:
    selector = ProbsDistBasedSelector(info(MetricType.COSINE), is_similarity=True)
    assert selector.select([]) == [] and selector.get_confidences([]) == []


def test_probs_selector_refuses_a_threshold_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="prob_threshold"):
        ProbsDistBasedSelector(info(MetricType.COSINE), prob_threshold=1.5)


TREE = {
    "electronics": None,
    "audio": "electronics",
    "headphones": "audio",
    "speakers": "audio",
    "clothing": None,
    "shoes": "clothing",
}


def hierarchical(margin: float = 0.3) -> HierarchicalCategorySelector:
    base = ProbsDistBasedSelector(
        info(MetricType.COSINE), is_similarity=False, margin=margin, scale=20.0
    )
    return HierarchicalCategorySelector(base, CategoryGraph(TREE))


def test_hierarchical_selector_adds_the_ancestors_among_the_candidates() -> None:
    selector = hierarchical()
    categories = found(headphones=0.1, speakers=0.45, audio=0.5, shoes=0.7, electronics=0.8)
    assert selector.select(categories) == [0, 2, 4]  # headphones, audio, electronics
    confidences = selector.get_confidences(categories)
    assert confidences[2] == confidences[4] == confidences[0]  # ancestors as sure as the match
    assert confidences[1] < 0.5 and confidences[3] < 0.5


def test_hierarchical_selector_reports_ancestors_that_were_not_fetched() -> None:
    selector = hierarchical()
    categories = found(headphones=0.1, shoes=0.7)
    assert selector.missing_candidates(categories) == ["audio", "electronics"]
    assert selector.select(categories) == [0]


def test_hierarchical_selector_with_nothing_matched_selects_nothing() -> None:
    selector = hierarchical()
    categories = found(headphones=0.6, audio=0.7)
    assert selector.select(categories) == []
    assert selector.missing_candidates(categories) == []


def test_hierarchical_selector_needs_vectors_when_its_base_does() -> None:
    class VectorsSelector(AbstractSelector):
        vectors_are_needed = True  # type: ignore[assignment]

        def select(self, categories, query_vector=None):  # noqa: ARG002
            return [0] if query_vector is not None else []

    selector = HierarchicalCategorySelector(VectorsSelector(), CategoryGraph(TREE))
    assert selector.vectors_are_needed
    assert selector.select(found(speakers=0.9, audio=0.9), torch.zeros(2)) == [0, 1]
    assert AbstractSelector.get_confidences(selector, found(speakers=0.9)) == [0.0]


def test_category_graph_ancestors_nearest_first_in_a_dag_with_a_cycle() -> None:
    graph = CategoryGraph.from_edges(
        [("trail_shoes", "running_shoes"), ("trail_shoes", "hiking"), ("running_shoes", "shoes")]
    )
    graph.add_category("shoes", ["clothing"])
    graph.add_category("clothing", ["trail_shoes"])  # a cycle must not loop
    assert graph.get_ancestors("trail_shoes") == ["running_shoes", "hiking", "shoes", "clothing"]
    assert graph.get_parents("shoes") == ["clothing"]
    assert graph.get_ancestors("unknown") == []
    assert "shoes" in graph and "unknown" not in graph


def test_category_graph_loads_unknown_parents_in_batches() -> None:
    calls: list[list[str]] = []
    stored = {"headphones": ["audio"], "audio": ["electronics"], "electronics": []}

    def loader(ids: list[str]) -> dict[str, list[str]]:
        calls.append(ids)
        return {i: stored[i] for i in ids if i in stored}

    graph = CategoryGraph(parents_loader=loader)
    assert graph.get_ancestors("headphones") == ["audio", "electronics"]
    assert graph.get_ancestors("headphones") == ["audio", "electronics"]
    assert calls == [["headphones"], ["audio"], ["electronics"]]  # each id loaded once


def test_parent_ids_from_payload_accepts_an_id_or_a_list() -> None:
    assert parent_ids_from_payload({"parent_id": "shoes"}, "parent_id") == ["shoes"]
    assert parent_ids_from_payload({"parent_id": ["a", 2, None]}, "parent_id") == ["a", "2"]
    assert parent_ids_from_payload({"parent_id": None}, "parent_id") == []
    assert parent_ids_from_payload(None, "parent_id") == []
    with pytest.raises(ValueError, match="parent_id"):
        parent_ids_from_payload({"parent_id": {"x": 1}}, "parent_id")


def test_aggregated_distance_matches_the_collection_metrics() -> None:
    query = [1.0, 0.0]
    parts = [[1.0, 0.0], [0.0, 2.0]]
    cosine_min = info(MetricType.COSINE, MetricAggregationType.MIN)
    cosine_avg = info(MetricType.COSINE, MetricAggregationType.AVG)
    assert aggregated_distance(query, parts, cosine_min) == pytest.approx(0.0)
    assert aggregated_distance(query, parts, cosine_avg) == pytest.approx(0.5)
    assert aggregated_distance(query, parts, info(MetricType.DOT)) == pytest.approx(-1.0)
    euclid_avg = info(MetricType.EUCLID, MetricAggregationType.AVG)
    assert aggregated_distance(query, parts, euclid_avg) == pytest.approx(math.sqrt(5) / 2)
    with pytest.raises(ValueError, match="no part vectors"):
        aggregated_distance(query, [], cosine_min)


def test_object_with_distance_from_a_search_result() -> None:
    item = SearchResultItem(
        object_id="shoes", distance=0.25, payload={"name": "Shoes"}, vectors=[[1.0, 0.0]]
    )
    obj = ObjectWithDistance.from_search_result(item)
    assert obj.id == "shoes" and obj.distance == 0.25 and obj.payload == {"name": "Shoes"}
    assert [part.vector for part in obj.parts] == [[1.0, 0.0]]
