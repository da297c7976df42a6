"""Query suggestion latency (`get-top-k`) over a pool of N phrases.

    python -m benchmarks.suggestions_speed [--phrases 100000] [--queries 3000]
        [--api-url URL --postgres-url URL]

Builds N realistic phrases from SciFact (word n-grams of titles and claims, 2-6 words,
lower-cased, with skewed probabilities, labels and domains), adds them through the API,
then times `POST /api/v1/suggesting/get-top-k` over HTTP (one keep-alive client,
sequential) for a mix of what users type:
- `start`: the beginning of a phrase, cut inside a word;
- `middle`: words from the middle of a phrase, cut inside a word;
- `short`: one or two characters;
- `complete`: a whole phrase followed by a space;
- `typo`: the start of a phrase with one or two edits (typos);
- `miss`: text matching nothing (the slowest path: every stage runs);
- `domain`: `start` queries restricted to a domain.
Also reports the same queries in-process (no HTTP) and the first query's time (it builds
the index). After the bulk load it runs VACUUM ANALYZE and a CHECKPOINT, so autovacuum
does not run beside the timings. Without URLs it starts its own PostgreSQL and API server
(no workers); with them, use a scratch deployment: the phrases stay in its pool.
Prints one JSON document; `meets_target` compares the overall HTTP p99 with 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from benchmarks.latency import summarize_ms
from embedding_studio.data_access.postgres.engine import create_postgres_engine, sqlalchemy_url
from embedding_studio.embedded import services
from embedding_studio.suggesting.suggester import Suggester

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
TARGET_P99_MS = 20.0
LABELS = [f"topic-{n}" for n in range(24)]
DOMAINS = ["biology", "medicine", "chemistry", "genetics", "neuroscience"]
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def _texts(dataset: Path) -> list[str]:
    texts = []
    for name, field in (("corpus.jsonl", "title"), ("queries.jsonl", "text")):
        with (dataset / name).open(encoding="utf-8") as lines:
            texts += [json.loads(line)[field] for line in lines]
    return texts


def build_phrases(dataset: Path, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` distinct phrases: n-grams (2-6 words) of SciFact titles and claims."""
    rng = random.Random(seed)
    grams: dict[str, None] = {}
    for text in _texts(dataset):
        words = _WORD.findall(text.lower())
        for size in range(2, 7):
            for start in range(len(words) - size + 1):
                grams[" ".join(words[start : start + size])] = None
    pool = list(grams)
    rng.shuffle(pool)
    if len(pool) < count:
        raise SystemExit(f"only {len(pool)} distinct n-grams; ask for fewer phrases")
    phrases = []
    for text in pool[:count]:
        item: dict[str, Any] = {"phrase": text, "prob": round(rng.random() ** 3, 4)}
        item["labels"] = rng.sample(LABELS, rng.choice((0, 1, 1, 2)))
        item["domains"] = rng.sample(DOMAINS, rng.choice((0, 1, 1, 2)))
        phrases.append(item)
    return phrases


def _cut(rng: random.Random, words: list[str]) -> str:
    text = " ".join(words)
    last = len(text) - len(words[-1])
    return text[: rng.randint(last + 1, len(text))]


def _typo(rng: random.Random, word: str) -> str:
    position = rng.randrange(len(word))
    kind = rng.choice(("substitute", "delete", "insert", "swap"))
    if kind == "substitute":
        return word[:position] + rng.choice(_ALPHABET) + word[position + 1 :]
    if kind == "delete" and len(word) > 1:
        return word[:position] + word[position + 1 :]
    if kind == "swap" and position + 1 < len(word):
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    return word[:position] + rng.choice(_ALPHABET) + word[position:]


def build_queries(phrases: list[dict[str, Any]], count: int, seed: int = 11) -> list[dict]:
    """`count` requests of each kind (see the module docstring), shuffled."""
    rng = random.Random(seed)
    kinds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    per_kind = max(1, count // len(_KINDS))
    while any(len(items) < per_kind for items in kinds.values()):
        words = rng.choice(phrases)["phrase"].split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) >= 6]
        for kind in _KINDS:
            if len(kinds[kind]) >= per_kind:
                continue
            text = _query(rng, kind, words, long_words)
            if text is None:
                continue
            request: dict[str, Any] = {"phrase": text, "top_k": 10}
            if kind == "domain":
                request["domain"] = rng.choice(DOMAINS)
            kinds[kind].append({"kind": kind, "request": request})
    queries = [query for items in kinds.values() for query in items]
    rng.shuffle(queries)
    return queries


_KINDS = ("start", "middle", "short", "complete", "typo", "miss", "domain")


def _query(rng: random.Random, kind: str, words: list[str], long_words: list[int]) -> str | None:
    if kind in ("start", "domain"):
        return _cut(rng, words[: rng.randint(1, len(words))])
    if kind == "middle":
        first = rng.randint(1, len(words) - 1)
        return _cut(rng, words[first : rng.randint(first + 1, len(words))])
    if kind == "short":
        return words[0][: rng.randint(1, 2)]
    if kind == "complete":
        return " ".join(words) + " "
    if kind == "typo":
        if not long_words:
            return None
        target = rng.choice(long_words)
        typed = [*words[:target], _typo(rng, words[target])]
        return " ".join(typed)[: -rng.randint(0, 2) or None]
    return " ".join(
        "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(4, 9)))
        for _ in range(rng.randint(1, 3))
    )


def _timings(call: Any, queries: list[dict]) -> dict[str, Any]:
    samples: dict[str, list[float]] = {}
    for query in queries:
        started = time.perf_counter()
        call(query["request"])
        samples.setdefault(query["kind"], []).append(time.perf_counter() - started)
    overall = [s for values in samples.values() for s in values]
    return {"overall": summarize_ms(overall)} | {
        kind: summarize_ms(values) for kind, values in sorted(samples.items())
    }


@contextmanager
def _own_servers(workdir: Path) -> Iterator[tuple[str, str]]:
    postgres = services.start_postgres(workdir / "pg")
    port = services.free_port()
    env = {**os.environ, "POSTGRES_URL": postgres.url, "INFERENCE_USED_PLUGINS": "[]"}
    command = [sys.executable, "-m", "uvicorn", "embedding_studio.main:app", "--port", str(port)]
    log = (workdir / "api.log").open("wb")
    api = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/docs", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url, postgres.url
    finally:
        api.terminate()
        api.wait(30)
        postgres.stop()


def _settle(postgres_url: str) -> None:
    """Let PostgreSQL finish with the bulk load (vacuum, statistics, checkpoint) so that
    the timings show the steady state rather than autovacuum running beside them."""
    libpq_url = make_url(sqlalchemy_url(postgres_url)).set(drivername="postgresql")
    with psycopg.connect(
        libpq_url.render_as_string(hide_password=False), autocommit=True
    ) as connection:
        connection.execute("VACUUM (ANALYZE) suggestion_phrases")
        connection.execute("CHECKPOINT")


def run(api_url: str, postgres_url: str, phrases: list[dict], queries: list[dict]) -> dict:
    base = f"{api_url}/api/v1/suggesting"
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        for start in range(0, len(phrases), 5000):
            reply = client.post(
                f"{base}/phrases/add", json={"phrases": phrases[start : start + 5000]}
            )
            reply.raise_for_status()
        added_s = time.perf_counter() - started
        _settle(postgres_url)
        started = time.perf_counter()
        client.post(f"{base}/get-top-k", json={"phrase": "warm", "top_k": 10}).raise_for_status()
        first_s = time.perf_counter() - started

        def over_http(request: dict) -> None:
            client.post(f"{base}/get-top-k", json=request).raise_for_status()

        for query in queries[:50]:
            over_http(query["request"])
        http = _timings(over_http, queries)
    suggester = Suggester(create_postgres_engine(postgres_url))
    suggester.get_top_k("warm")
    in_process = _timings(
        lambda r: suggester.get_top_k(r["phrase"], r["top_k"], r.get("domain")), queries
    )
    return {
        "phrases": len(phrases),
        "queries": len(queries),
        "add_phrases_s": round(added_s, 2),
        "first_query_s": round(first_s, 2),
        "http": http,
        "in_process": in_process,
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": http["overall"]["p99_ms"] <= TARGET_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phrases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--api-url")
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    phrases = build_phrases(args.dataset, args.phrases)
    queries = build_queries(phrases, args.queries)
    if args.api_url and args.postgres_url:
        result = run(args.api_url, args.postgres_url, phrases, queries)
    else:
        with tempfile.TemporaryDirectory(prefix="es-suggest-") as folder:
            with _own_servers(Path(folder)) as (api_url, postgres_url):
                result = run(api_url, postgres_url, phrases, queries)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
