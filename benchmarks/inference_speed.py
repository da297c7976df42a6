"""Embedding speed through Triton and in-process, next to raw sentence-transformers, and
what dynamic int8 quantisation costs in SciFact nDCG@10.

    python -m benchmarks.inference_speed [--queries 50] [--batches 5] [--corpus 600]
                                         [--no-triton] [--no-quality] [--out FILE]

Paths measured (all-MiniLM-L6-v2, CPU):
- raw: `SentenceTransformer.encode` (normalised), the baseline;
- local: `LocalInferenceClient` (the INFERENCE_BACKEND=local path): fp32 with torch and
  in ONNX Runtime (INFERENCE_LOCAL_RUNTIME, default onnx), int8 with torch;
- triton: `TextToTextBERTTritonClient` over gRPC to a local `tritonserver` (the
  nvidia-pytriton binary, Python backend running the exported TorchScript; see
  deploy/triton/README.md), fp32 and int8 exports.
Torch runs with `--threads` threads (default 1) here and in each Triton instance. For
each: single queries (SciFact queries, one per call): queries/s, p50/p99; batches of
32 items (SciFact passages cut to their first 48 words): items/s, p50/p99 per batch.

Quality: nDCG@10 of the SciFact test queries over a corpus subset (every judged
document plus random others, `--corpus` in all), fp32 against int8, with exact search.
Prints JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.beir import BeirDataset, load_beir
from benchmarks.latency import summarize_ms, timed_calls
from benchmarks.raw_model import load_model
from embedding_studio.embeddings.inference.client import EmbeddingClient
from embedding_studio.embeddings.inference.local_client import LocalInferenceClient
from embedding_studio.embeddings.inference.quantization import quantize_int8
from embedding_studio.embeddings.models.text_to_text.sbert import TextToTextSBERTModel
from embedding_studio.workers.fine_tuning.ranking_metrics import ndcg_at_k

logger = logging.getLogger(__name__)

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
BATCH = 32
ITEM_WORDS = 48


def _texts(dataset: BeirDataset, queries: int, batches: int) -> tuple[list[str], list[list[str]]]:
    query_texts = list(dataset.queries.values())[:queries]
    passages = [" ".join(d.content.split()[:ITEM_WORDS]) for d in dataset.corpus.values()]
    return query_texts, [passages[i * BATCH : (i + 1) * BATCH] for i in range(batches)]


def measure(
    single: Callable[[str], Any], batch: Callable[[list[str]], Any], queries: list[str],
    batches: list[list[str]],
) -> dict[str, Any]:  # fmt: skip
    single_s = timed_calls(single, queries, warmup=5)
    batch_s = timed_calls(batch, batches, warmup=2)
    return {
        "single": {
            **summarize_ms(single_s),
            "queries_per_s": round(len(single_s) / sum(single_s), 1),
        },
        "batch32": {
            **summarize_ms(batch_s),
            "items_per_s": round(BATCH * len(batch_s) / sum(batch_s), 1),
        },
    }


def client_paths(
    client: EmbeddingClient,
) -> tuple[Callable[[str], Any], Callable[[list[str]], Any]]:
    return client.forward_query, client.forward_items


def triton_figures(
    model: TextToTextSBERTModel, queries: list[str], batches: list[list[str]], threads: int
) -> dict[str, Any]:
    from embedding_studio.embeddings.inference.triton.export import ExportOptions, export_model
    from embedding_studio.embeddings.inference.triton.local_server import (
        LocalTritonServer,
        ensure_pytriton,
    )
    from embedding_studio.embeddings.inference.triton.text_to_text.bert import (
        TextToTextBERTTritonClient,
    )

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="es-triton-bench-") as tmp:
        repository = Path(tmp) / "models"
        for label, quantize in (("fp32", False), ("int8", True)):
            options = ExportOptions(backend="python", quantize_int8=quantize)
            export_model(model, "Bench", label, repository, options)
        server = LocalTritonServer(ensure_pytriton(), repository, torch_threads=threads)
        with server:
            for label in ("fp32", "int8"):
                client = TextToTextBERTTritonClient(
                    server.grpc_url, "Bench", label, tokenizer=model.tokenizer,
                    max_length=model.max_length or 256, timeout_s=120,
                )  # fmt: skip
                client.client.load_model(f"Bench_{label}_query")
                figures[label] = measure(*client_paths(client), queries, batches)
                client.client.close()
    return figures


def ndcg(client: EmbeddingClient, dataset: BeirDataset, corpus_ids: list[str]) -> float:
    queries = dataset.split_queries("test")
    documents = client.forward_items([dataset.corpus[d].content for d in corpus_ids])
    scores = []
    for query_id, text in queries.items():
        similarity = documents @ client.forward_query(text)
        ranked = [corpus_ids[i] for i in np.argsort(-similarity)[:10]]
        gains = {doc: float(g) for doc, g in dataset.qrels["test"][query_id].items()}
        scores.append(ndcg_at_k(ranked, gains, 10))
    return float(np.mean(scores))


def quality(
    fp32: EmbeddingClient, int8: EmbeddingClient, dataset: BeirDataset, corpus_size: int
) -> dict[str, Any]:
    judged = {doc for docs in dataset.qrels["test"].values() for doc in docs}
    others = sorted(set(dataset.corpus) - judged)
    random.Random(0).shuffle(others)
    corpus_ids = sorted(judged & set(dataset.corpus)) + others[: max(0, corpus_size - len(judged))]
    sample = [dataset.corpus[d].content for d in corpus_ids[:200]]
    cosines = np.sum(fp32.forward_items(sample) * int8.forward_items(sample), axis=1)
    base, quantised = ndcg(fp32, dataset, corpus_ids), ndcg(int8, dataset, corpus_ids)
    return {
        "corpus_documents": len(corpus_ids),
        "test_queries": len(dataset.split_queries("test")),
        "ndcg@10_fp32": round(base, 4),
        "ndcg@10_int8": round(quantised, 4),
        "drop_points": round(100 * (base - quantised), 2),
        "min_cosine_fp32_int8": round(float(cosines.min()), 4),
        "keep_int8_by_default": bool(100 * (base - quantised) < 0.5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--corpus", type=int, default=600)
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads here and per Triton instance (1: fair on a shared CPU)",
    )  # fmt: skip
    parser.add_argument("--no-triton", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)

    torch.set_num_threads(args.threads)
    dataset = load_beir(SCIFACT)
    queries, batches = _texts(dataset, args.queries, args.batches)
    raw = load_model()
    model = TextToTextSBERTModel(raw).eval()
    int8_model = quantize_int8(copy.deepcopy(model))
    local, local_int8 = LocalInferenceClient(model), LocalInferenceClient(int8_model)
    local_onnx = LocalInferenceClient(model, runtime="onnx")

    def raw_single(text: str) -> Any:
        return raw.encode([text], normalize_embeddings=True)

    def raw_batch(texts: list[str]) -> Any:
        return raw.encode(texts, batch_size=BATCH, normalize_embeddings=True)

    report: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    report["raw_sentence_transformers"] = measure(raw_single, raw_batch, queries, batches)
    logger.info("raw: %s", report["raw_sentence_transformers"])
    report["local_fp32"] = measure(*client_paths(local), queries, batches)
    report["local_fp32_onnx"] = measure(*client_paths(local_onnx), queries, batches)
    report["local_int8"] = measure(*client_paths(local_int8), queries, batches)
    logger.info("local: %s", {k: v for k, v in report.items() if k.startswith("local")})
    if not args.no_triton:
        triton = triton_figures(model, queries, batches, args.threads)
        report["triton_fp32"], report["triton_int8"] = triton["fp32"], triton["int8"]
        logger.info("triton: %s", triton)
    if not args.no_quality:
        report["int8_quality"] = quality(local, local_int8, dataset, args.corpus)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
