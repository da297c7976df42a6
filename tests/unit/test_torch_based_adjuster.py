"""The torch-based adjuster on hand-made vectors: direction of the moves for every metric,
the soft minimum over parts, padded batches of mixed shapes, and untouched originals."""

from __future__ import annotations

import pytest
import torch

from embedding_studio.embeddings.data.clickstream.improvement_input import (
    ImprovementElement,
    ImprovementInput,
)
from embedding_studio.embeddings.improvement.similarity import object_similarities, soft_min
from embedding_studio.embeddings.improvement.torch_based_adjuster import TorchBasedAdjuster
from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)

DIMENSIONS = 4


def element(object_id: str, rows: list[list[float]] | list[float]) -> ImprovementElement:
    return ImprovementElement(id=object_id, vector=torch.tensor(rows, dtype=torch.float32))


def info(
    metric: MetricType, aggregation: MetricAggregationType = MetricAggregationType.MIN
) -> SearchIndexInfo:
    return SearchIndexInfo(
        dimensions=DIMENSIONS, metric_type=metric, metric_aggregation_type=aggregation
    )


def similarity(
    index: SearchIndexInfo, query: ImprovementElement, item: ImprovementElement, t: float = 1.0
) -> float:
    value = object_similarities(
        query.parts[None],
        item.parts[None, None],
        index.metric_type,
        index.metric_aggregation_type,
        t,
    )
    return float(value)


def feedback_session(session_id: str = "s1") -> ImprovementInput:
    """The query points along x; the clicked result is off to the side (ranked low),
    two shown results are close to the query and were not clicked."""
    return ImprovementInput(
        session_id=session_id,
        query=element("query", [1.0, 0.0, 0.0, 0.0]),
        clicked_elements=[element("clicked", [[0.2, 0.9, 0.1, 0.0], [0.0, 0.2, 0.9, 0.1]])],
        non_clicked_elements=[
            element("close", [[0.9, 0.3, 0.0, 0.1]]),
            element("closer", [[0.95, 0.0, 0.2, 0.0], [0.5, 0.5, 0.5, 0.5]]),
        ],
    )


@pytest.mark.parametrize("aggregation", list(MetricAggregationType))
@pytest.mark.parametrize("metric", list(MetricType))
def test_clicked_result_gets_closer_and_shown_results_farther(
    metric: MetricType, aggregation: MetricAggregationType
) -> None:
    index = info(metric, aggregation)
    before = feedback_session()

    [after] = TorchBasedAdjuster(index).adjust_vectors([before])

    query = before.query
    clicked_before = similarity(index, query, before.clicked_elements[0])
    clicked_after = similarity(index, query, after.clicked_elements[0])
    assert clicked_after > clicked_before
    for old, new in zip(before.non_clicked_elements, after.non_clicked_elements, strict=True):
        assert new.id == old.id
        assert similarity(index, query, new) < similarity(index, query, old)
    # the clicked result, ranked last before, now ranks first for this query
    others_after = [similarity(index, query, e) for e in after.non_clicked_elements]
    assert clicked_before < min(similarity(index, query, e) for e in before.non_clicked_elements)
    assert clicked_after > max(others_after)


def test_originals_are_not_modified_and_new_tensors_come_back() -> None:
    before = feedback_session()
    snapshot = [e.vector.clone() for e in before.clicked_elements + before.non_clicked_elements]

    [after] = TorchBasedAdjuster(info(MetricType.COSINE)).adjust_vectors([before])

    originals = before.clicked_elements + before.non_clicked_elements
    for original, copy in zip(originals, snapshot, strict=True):
        assert torch.equal(original.vector, copy)
    for old, new in zip(
        originals, after.clicked_elements + after.non_clicked_elements, strict=True
    ):
        assert new is not old
        assert new.vector.data_ptr() != old.vector.data_ptr()
        assert new.vector.shape == old.vector.shape
        assert not new.vector.requires_grad
    assert after.session_id == before.session_id
    assert torch.equal(after.query.vector, before.query.vector)


def test_soft_min_goes_from_the_minimum_to_the_mean_as_temperature_rises() -> None:
    values = torch.tensor([0.2, 0.5, 1.4])

    assert float(soft_min(values, 0.001, dim=0)) == pytest.approx(0.2, abs=1e-4)
    assert float(soft_min(values, 1000.0, dim=0)) == pytest.approx(float(values.mean()), abs=1e-3)
    medium = [float(soft_min(values, t, dim=0)) for t in (0.05, 0.3, 1.0, 5.0)]
    assert medium == sorted(medium)
    assert 0.2 < medium[1] < float(values.mean())


def test_soft_min_ignores_masked_entries() -> None:
    values = torch.tensor([[0.3, -5.0, 0.9], [7.0, 7.0, 7.0]])
    mask = torch.tensor([[True, False, True], [False, False, False]])

    result = soft_min(values, 0.001, dim=1, mask=mask)

    assert result.tolist() == pytest.approx([0.3, 0.0], abs=1e-4)


def test_min_aggregation_follows_the_closest_part_at_low_temperature() -> None:
    index = info(MetricType.COSINE, MetricAggregationType.MIN)
    query = element("q", [1.0, 0.0, 0.0, 0.0])
    item = element("i", [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])  # cosine 1 and 0

    assert similarity(index, query, item, t=0.001) == pytest.approx(1.0, abs=1e-4)
    assert similarity(index, query, item, t=1000.0) == pytest.approx(0.5, abs=1e-3)
    assert 0.5 < similarity(index, query, item, t=1.0) < 1.0


def test_low_temperature_adjusts_mainly_the_closest_part() -> None:
    """At a low temperature the far part of a clicked object gets (almost) no gradient;
    at a high one every part moves."""

    def far_part_shift(temperature: float) -> float:
        session = ImprovementInput(
            session_id="s",
            query=element("q", [1.0, 0.0, 0.0, 0.0]),
            clicked_elements=[element("c", [[0.8, 0.6, 0.0, 0.0], [-0.6, 0.8, 0.0, 0.0]])],
            non_clicked_elements=[],
        )
        adjuster = TorchBasedAdjuster(info(MetricType.COSINE), softmin_temperature=temperature)
        [after] = adjuster.adjust_vectors([session])
        moved = after.clicked_elements[0].vector - session.clicked_elements[0].vector
        return float(moved[1].norm())

    assert far_part_shift(0.01) < 0.05 * far_part_shift(100.0)


def test_sessions_of_different_shapes_adjust_together_as_they_would_alone() -> None:
    torch.manual_seed(7)
    sessions = [
        ImprovementInput(
            session_id="many-results",
            query=ImprovementElement(id="q1", vector=torch.randn(DIMENSIONS)),
            clicked_elements=[ImprovementElement(id="a", vector=torch.randn(3, DIMENSIONS))],
            non_clicked_elements=[
                ImprovementElement(id=f"n{i}", vector=torch.randn(i + 1, DIMENSIONS))
                for i in range(4)
            ],
        ),
        ImprovementInput(
            session_id="multi-part-query",
            query=ImprovementElement(id="q2", vector=torch.randn(2, DIMENSIONS)),
            clicked_elements=[
                ImprovementElement(id="b", vector=torch.randn(DIMENSIONS)),
                ImprovementElement(id="c", vector=torch.randn(5, DIMENSIONS)),
            ],
            non_clicked_elements=[ImprovementElement(id="d", vector=torch.randn(1, DIMENSIONS))],
        ),
        ImprovementInput(
            session_id="irrelevant",
            query=ImprovementElement(id="q3", vector=torch.randn(1, DIMENSIONS)),
            clicked_elements=[],
            non_clicked_elements=[ImprovementElement(id="e", vector=torch.randn(2, DIMENSIONS))],
        ),
        ImprovementInput(
            session_id="nothing-shown",
            query=ImprovementElement(id="q4", vector=torch.randn(DIMENSIONS)),
            clicked_elements=[],
            non_clicked_elements=[],
        ),
    ]
    for metric in MetricType:
        adjuster = TorchBasedAdjuster(info(metric))

        together = adjuster.adjust_vectors(sessions)
        alone = [adjuster.adjust_vectors([session])[0] for session in sessions]

        assert [s.session_id for s in together] == [s.session_id for s in sessions]
        for batched, single, original in zip(together, alone, sessions, strict=True):
            pairs = zip(
                batched.clicked_elements + batched.non_clicked_elements,
                single.clicked_elements + single.non_clicked_elements,
                original.clicked_elements + original.non_clicked_elements,
                strict=True,
            )
            for in_batch, by_itself, before in pairs:
                assert in_batch.id == before.id
                assert in_batch.vector.shape == before.vector.shape
                assert torch.allclose(in_batch.vector, by_itself.vector, atol=1e-4)
                assert not torch.equal(in_batch.vector, before.vector)


def test_vectors_keep_their_dtype() -> None:
    session = feedback_session()
    session.clicked_elements[0] = ImprovementElement(
        id="clicked", vector=session.clicked_elements[0].vector.to(torch.float64)
    )

    [after] = TorchBasedAdjuster(info(MetricType.DOT)).adjust_vectors([session])

    assert after.clicked_elements[0].vector.dtype == torch.float64
    assert after.non_clicked_elements[0].vector.dtype == torch.float32


def test_empty_batch_and_zero_iterations_return_equal_vectors() -> None:
    adjuster = TorchBasedAdjuster(info(MetricType.COSINE), num_iterations=0)
    session = feedback_session()

    assert adjuster.adjust_vectors([]) == []
    [after] = adjuster.adjust_vectors([session])
    assert torch.equal(after.clicked_elements[0].vector, session.clicked_elements[0].vector)


def test_wrong_dimensions_are_reported_with_got_and_expected() -> None:
    session = feedback_session()
    session.non_clicked_elements.append(element("short", [[1.0, 0.0]]))

    with pytest.raises(ValueError, match="has 2 dimensions; expected 4"):
        TorchBasedAdjuster(info(MetricType.EUCLID)).adjust_vectors([session])


@pytest.mark.parametrize(
    "arguments",
    [{"adjustment_rate": 0.0}, {"num_iterations": -1}, {"softmin_temperature": 0.0}],
)
def test_invalid_parameters_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TorchBasedAdjuster(info(MetricType.COSINE), **arguments)  # type: ignore[arg-type]


def test_element_vectors_must_be_one_or_two_dimensional() -> None:
    with pytest.raises(ValueError, match=r"\[D\] or \[M, D\]"):
        ImprovementElement(id="x", vector=torch.zeros(1, 2, DIMENSIONS))


def test_a_custom_adjuster_written_from_the_seeds_runs_on_these_inputs() -> None:
    """The plugin guide's example adjuster (assigning `.vector` on elements) works."""

    class AdvancedVectorAdjuster(VectorsAdjuster):
        def __init__(self, learning_rate: float = 0.1, decay_factor: float = 0.9):
            self.learning_rate = learning_rate
            self.decay_factor = decay_factor

        def adjust_vectors(
            self, data_for_improvement: list[ImprovementInput]
        ) -> list[ImprovementInput]:
            for improvement_input in data_for_improvement:
                query_vector = improvement_input.query.vector
                for clicked in improvement_input.clicked_elements:
                    clicked.vector = clicked.vector + self.learning_rate * (
                        query_vector - clicked.vector
                    )
                for non_clicked in improvement_input.non_clicked_elements:
                    non_clicked.vector = (
                        non_clicked.vector
                        - self.learning_rate
                        * self.decay_factor
                        * (query_vector - non_clicked.vector)
                    )
            return data_for_improvement

    session = feedback_session()
    index = info(MetricType.EUCLID)
    before = similarity(index, session.query, session.clicked_elements[0])

    [after] = AdvancedVectorAdjuster().adjust_vectors([session])

    assert similarity(index, after.query, after.clicked_elements[0]) > before
