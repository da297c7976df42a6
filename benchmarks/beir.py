"""Reading a BEIR-format dataset folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str

    @property
    def content(self) -> str:
        return f"{self.title}. {self.text}" if self.title else self.text


@dataclass(frozen=True)
class BeirDataset:
    corpus: dict[str, Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> query id -> doc id -> relevance

    def split_queries(self, split: str) -> dict[str, str]:
        judged = self.qrels.get(split, {})
        return {qid: text for qid, text in self.queries.items() if qid in judged}


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    judged: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            score = int(row["score"])
            if score > 0:
                judged.setdefault(row["query-id"], {})[row["corpus-id"]] = score
    return judged


def load_beir(folder: Path) -> BeirDataset:
    corpus = {
        str(row["_id"]): Document(str(row["_id"]), row.get("title", ""), row.get("text", ""))
        for row in _read_jsonl(folder / "corpus.jsonl")
    }
    queries = {str(row["_id"]): row["text"] for row in _read_jsonl(folder / "queries.jsonl")}
    qrels = {path.stem: _read_qrels(path) for path in sorted((folder / "qrels").glob("*.tsv"))}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)
