"""Text-to-text wrappers around one `SentenceTransformer` shared by queries and items.

Subclasses differ only by the prefixes the model was trained with (E5: "query: " and
"passage: "; SBERT models: none). Vectors are the model's sentence embeddings,
L2-normalized when `normalize` is set, so they equal
`SentenceTransformer.encode(prefix + text, normalize_embeddings=True)`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from sentence_transformers import SentenceTransformer

from embedding_studio.embeddings.models.interface import EmbeddingsModelInterface

logger = logging.getLogger(__name__)

WEIGHTS_DIR = "sentence_transformer"
WRAPPER_CONFIG_FILE = "wrapper_config.json"


class TokensToEmbeddings(torch.nn.Module):
    """`forward(input_ids, attention_mask) -> [N, D]` over a SentenceTransformer: the
    tower exported for Triton (traceable with `torch.jit.trace`)."""

    def __init__(self, model: SentenceTransformer, normalize: bool) -> None:
        super().__init__()
        self.model = model
        self.normalize = normalize

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        features = {"input_ids": input_ids, "attention_mask": attention_mask}
        embeddings = self.model(features)["sentence_embedding"]
        return _finish(embeddings, self.normalize)


def _finish(embeddings: torch.Tensor, normalize: bool) -> torch.Tensor:
    embeddings = embeddings.float()
    if normalize:
        embeddings = torch.nn.functional.normalize(embeddings, p=2, dim=1)
    return embeddings


class SentenceTransformerTextModel(EmbeddingsModelInterface):
    """Queries and items embedded by one SentenceTransformer, with optional text prefixes.

    :param model: the SentenceTransformer to wrap (kept as is, on its device)
    :param normalize: L2-normalize every vector (default True)
    """

    query_prefix: ClassVar[str] = ""
    items_prefix: ClassVar[str] = ""

    def __init__(self, model: SentenceTransformer, normalize: bool = True) -> None:
        super().__init__(same_query_and_items=True)
        if not isinstance(model, SentenceTransformer):
            raise TypeError(
                f"{type(self).__name__} wraps a SentenceTransformer, got {type(model).__name__}"
            )
        self.model = model
        self.normalize = normalize

    # --- towers --------------------------------------------------------------------
    def get_query_model(self) -> torch.nn.Module:
        return TokensToEmbeddings(self.model, self.normalize)

    def get_items_model(self) -> torch.nn.Module:
        return TokensToEmbeddings(self.model, self.normalize)

    # --- embedding -----------------------------------------------------------------
    def prepare_queries(self, queries: list[str]) -> list[str]:
        """The exact texts the tokenizer sees for these queries (prefix added)."""
        return [self.query_prefix + query for query in queries]

    def prepare_items(self, items: list[str]) -> list[str]:
        """The exact texts the tokenizer sees for these items (prefix added)."""
        return [self.items_prefix + item for item in items]

    def forward_query(self, queries: list[str]) -> torch.Tensor:
        return self._embed(self.prepare_queries(queries))

    def forward_items(self, items: list[str]) -> torch.Tensor:
        return self._embed(self.prepare_items(items))

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenize prepared texts as the model does (padding to the longest, truncation
        at `max_length`); returns int64 tensors on the model's device."""
        features = self.model.preprocess(texts)
        return {
            name: value.to(self.device)
            for name, value in features.items()
            if isinstance(value, torch.Tensor)
        }

    def _embed(self, texts: list[str]) -> torch.Tensor:
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise TypeError("expected a list of strings")
        if not texts:
            return torch.zeros((0, self.dimensions), dtype=torch.float32, device=self.device)
        embeddings = self.model(self.tokenize(texts))["sentence_embedding"]
        return _finish(embeddings, self.normalize)

    # --- description ---------------------------------------------------------------
    @property
    def dimensions(self) -> int:
        dimensions = self.model.get_embedding_dimension()
        if dimensions is None:
            raise ValueError("the SentenceTransformer does not state its embedding dimension")
        return int(dimensions)

    @property
    def normalized(self) -> bool:
        return self.normalize

    @property
    def max_length(self) -> int | None:
        return self.model.max_seq_length

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "normalize": self.normalize,
            "query_prefix": self.query_prefix,
            "items_prefix": self.items_prefix,
            "max_length": self.max_length,
        }

    # --- storage -------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(str(directory / WEIGHTS_DIR), create_model_card=False)
        config = {"normalize": self.normalize}
        (directory / WRAPPER_CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Self:
        directory = Path(directory)
        weights = directory / WEIGHTS_DIR
        if not weights.is_dir():
            raise FileNotFoundError(f"{weights} is missing: not a saved {cls.__name__}")
        config: dict[str, Any] = {}
        config_path = directory / WRAPPER_CONFIG_FILE
        if config_path.exists():
            config = json.loads(config_path.read_text(encoding="utf-8"))
        model = SentenceTransformer(str(weights), device="cpu", local_files_only=True)
        return cls(model, normalize=bool(config.get("normalize", True)))
