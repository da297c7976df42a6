"""The part of a BEIR-format dataset the quality section runs on.

The whole dataset when no size is given; otherwise the first judged test and train queries
(in id order), their relevant documents, and per query the documents sharing the most
IDF-weighted words with it (lexical hard negatives, so the subset stays a hard task).
Nothing here knows a dataset's ids: any BEIR-format folder works."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from benchmarks.beir import BeirDataset, Document
from benchmarks.improvement_latency import id_order

TOKEN = re.compile(r"[^\W_]+")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class SubsetSizes:
    """None: everything. `words` cuts each document's text to its first words (0: whole)."""

    test_queries: int | None = None
    train_queries: int | None = None
    negatives_per_query: int | None = None
    words: int = 0


def _tokens(text: str) -> set[str]:
    return set(TOKEN.findall(text.lower()))


def hard_negatives(
    dataset: BeirDataset, queries: dict[str, str], per_query: int, relevant: set[str]
) -> list[str]:
    """Per query, the `per_query` documents outside `relevant` sharing the most
    IDF-weighted words with it."""
    documents = {doc_id: _tokens(doc.content) for doc_id, doc in dataset.corpus.items()}
    frequency = Counter(token for tokens in documents.values() for token in tokens)
    idf = {token: math.log(len(documents) / count) for token, count in frequency.items()}
    chosen: dict[str, None] = {}
    for text in queries.values():
        words = _tokens(text)
        scored = sorted(
            (
                (-sum(idf[t] for t in words & tokens), doc_id)
                for doc_id, tokens in documents.items()
                if doc_id not in relevant
            ),
        )
        chosen.update(dict.fromkeys(doc_id for _, doc_id in scored[:per_query]))
    return list(chosen)


def _cut(document: Document, words: int) -> Document:
    if not words:
        return document
    return Document(document.doc_id, document.title, " ".join(document.text.split()[:words]))


def require_splits(dataset: BeirDataset) -> None:
    missing = [split for split in SPLITS if not dataset.qrels.get(split)]
    if missing:
        raise ValueError(f"the dataset has no judged queries in qrels/{{{','.join(missing)}}}.tsv")


def subset(dataset: BeirDataset, sizes: SubsetSizes) -> BeirDataset:
    """The queries, judgements and documents of the quality section (see the module)."""
    require_splits(dataset)
    counts = {"test": sizes.test_queries, "train": sizes.train_queries}
    qrels: dict[str, dict[str, dict[str, int]]] = {}
    for split in SPLITS:
        judged = {
            qid: docs
            for qid, docs in dataset.qrels[split].items()
            if qid in dataset.queries and any(doc in dataset.corpus for doc in docs)
        }
        kept = sorted(judged, key=id_order)[: counts[split]]
        qrels[split] = {qid: judged[qid] for qid in kept}
    queries = {qid: dataset.queries[qid] for split in qrels.values() for qid in split}
    if sizes.negatives_per_query is None:
        doc_ids = list(dataset.corpus)
    else:
        relevant = {doc for split in qrels.values() for docs in split.values() for doc in docs}
        negatives = hard_negatives(dataset, queries, sizes.negatives_per_query, relevant)
        wanted = relevant | set(negatives)
        doc_ids = [doc_id for doc_id in dataset.corpus if doc_id in wanted]
    corpus = {doc_id: _cut(dataset.corpus[doc_id], sizes.words) for doc_id in doc_ids}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)
