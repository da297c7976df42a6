"""Simulated traffic through the real search path (PostgreSQL collections, clickstream
sessions and events, the experiment report): model B ranks the judged-relevant objects
higher than model A; simulated users click relevant results. Interleaving must find B
better (p < 0.05) after fewer searches than A/B, read at the same looks.

The stream is seeded, so the run is deterministic; benchmarks/experiments_power.py
measures the same comparison over many seeds (power at each number of searches)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest

from embedding_studio.api.schemas.search import SimilaritySearchRequest
from embedding_studio.context.app_context import AppContext
from embedding_studio.models.clickstream.session_events import SessionEvent
from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.models import Experiment, ExperimentMode
from embedding_studio.online_experiments.report import ALPHA
from embedding_studio.services import experiments
from embedding_studio.services.search import similarity_search
from tests.e2e.experiments_support import (
    MODEL_A,
    MODEL_B,
    TOPICS,
    experiments_context,
    noisy_scores,
)

logger = logging.getLogger(__name__)

OBJECTS = [f"o{i}" for i in range(6 * TOPICS)]
# Topic t: objects 6t .. 6t + (t % 4) are relevant (1 to 4 per topic).
RELEVANT = {t: set(OBJECTS[6 * t : 6 * t + 1 + t % 4]) for t in range(TOPICS)}
LOOKS = (50, 100, 200)
SEED = 11


@pytest.fixture
def ctx(fresh_database_url: str) -> Iterator[AppContext]:
    scores_a = noisy_scores(RELEVANT, OBJECTS, signal=2.0, seed=3)
    scores_b = noisy_scores(RELEVANT, OBJECTS, signal=3.0, seed=4)
    with experiments_context(fresh_database_url, scores_a, scores_b) as context:
        yield context


def user_clicks(shown: list[str], relevant: set[str], rng: random.Random) -> list[str]:
    """A relevant result at 1-based rank r is clicked with probability p0 / sqrt(r), p0
    differing between users (0.18 to 0.9); an irrelevant one with probability 0.02."""
    p0 = 0.9 * (1.0 - 0.8 * rng.random())
    clicked = []
    for rank, object_id in enumerate(shown, start=1):
        chance = min(1.0, p0 / rank**0.5) if object_id in relevant else 0.02
        if rng.random() < chance:
            clicked.append(object_id)
    return clicked


def b_found(ctx: AppContext, experiment_id: str) -> bool:
    report = experiments.report(ctx, experiment_id)
    if report.ab is None:
        return report.winner == "b"
    a, b = report.variants["a"], report.variants["b"]
    clicked_p = report.ab.p_value_clicked_searches
    b_ahead = b.clicked_searches * a.searches > a.clicked_searches * b.searches
    return report.winner == "b" or (clicked_p is not None and clicked_p < ALPHA and b_ahead)


def searches_needed(ctx: AppContext, mode: ExperimentMode, last_look: int) -> int | None:
    """Run a new experiment on simulated traffic; the first look at which its report
    finds B better (A/B: by the reciprocal rank or by the clicked-search share)."""
    experiment_id = f"sim-{mode.value}"
    definition = Experiment(
        experiment_id=experiment_id,
        mode=mode,
        variant_a=MODEL_A,
        variant_b=MODEL_B,
        created_at=utc_now(),
    )
    experiments.create(ctx, definition)
    experiments.start(ctx, experiment_id)
    rng = random.Random(SEED)
    try:
        for number in range(1, last_look + 1):
            topic = rng.randrange(TOPICS)
            request = SimilaritySearchRequest(
                search_query=f"t{topic}", user_id=f"{mode.value}-user-{number}", create_session=True
            )
            reply = similarity_search(ctx, request)
            assert reply.session_id is not None
            shown = [item.object_id for item in reply.search_results]
            events = [
                SessionEvent(session_id=reply.session_id, object_id=object_id)
                for object_id in user_clicks(shown, RELEVANT[topic], rng)
            ]
            if events:
                ctx.clickstream_dao.push_events(events)
            if number in LOOKS and b_found(ctx, experiment_id):
                return number
        return None
    finally:
        experiments.stop(ctx, experiment_id)


def test_interleaving_finds_the_better_model_with_fewer_searches_than_ab(ctx):
    interleaving = searches_needed(ctx, ExperimentMode.interleaving, LOOKS[-1])
    assert interleaving is not None, f"interleaving did not find B better in {LOOKS[-1]}"
    report = experiments.report(ctx, "sim-interleaving")
    assert report.interleaving is not None and report.interleaving.p_value is not None
    assert report.interleaving.p_value < ALPHA
    assert report.interleaving.b_wins > report.interleaving.a_wins

    ab = searches_needed(ctx, ExperimentMode.ab, interleaving)  # stops at the same look
    logger.info("searches needed: interleaving %d, A/B more than %d", interleaving, interleaving)
    assert ab is None, f"A/B found B better after {ab} searches, interleaving {interleaving}"
    ab_report = experiments.report(ctx, "sim-ab")
    assert sum(v.searches for v in ab_report.variants.values()) == interleaving
