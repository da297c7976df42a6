"""The interface every embedding model wrapper implements.

Search has two sides, the query and the items (search results); a wrapper embeds each
side with its own tower (`get_query_model`, `get_items_model`), which may be one and the
same module (`same_query_and_items`). Training, inference (in-process or exported to
Triton) and MLflow storage all go through this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import torch


class EmbeddingsModelInterface(torch.nn.Module, ABC):
    """A pair of towers that turn queries and items into vectors of one space.

    Contract:
    - `forward_query(queries)` and `forward_items(items)` take a list of N texts and
      return a float32 tensor of shape [N, D] on the model's device, with gradients
      when called outside `torch.no_grad()` / `torch.inference_mode()` (training uses
      them as is). Whether vectors are L2-normalized is stated by `normalized`.
    - `get_query_model()` / `get_items_model()` return `torch.nn.Module`s whose
      `forward(input_ids, attention_mask)` (both int64 [N, L]) returns the same [N, D]
      vectors; that is what gets exported for Triton.
    - `save(directory)` writes everything `load(directory)` needs into `directory`, as
      plain files (no pickles). Use `embedding_studio.embeddings.models.serialization`
      to save with a manifest naming the wrapper class, so any process can load it.

    :param same_query_and_items: True when queries and items share one tower
    """

    def __init__(self, same_query_and_items: bool = False) -> None:
        super().__init__()
        self.same_query_and_items = same_query_and_items

    # --- towers --------------------------------------------------------------------
    @abstractmethod
    def get_query_model(self) -> torch.nn.Module:
        """The query tower: forward(input_ids, attention_mask) -> [N, D] float32."""

    @abstractmethod
    def get_items_model(self) -> torch.nn.Module:
        """The items tower: forward(input_ids, attention_mask) -> [N, D] float32."""

    def get_query_model_params(self) -> Iterator[torch.nn.Parameter]:
        return self.get_query_model().parameters()

    def get_items_model_params(self) -> Iterator[torch.nn.Parameter]:
        return self.get_items_model().parameters()

    # --- embedding -----------------------------------------------------------------
    @abstractmethod
    def forward_query(self, queries: list[str]) -> torch.Tensor:
        """Embed N queries: [N, D] float32."""

    @abstractmethod
    def forward_items(self, items: list[str]) -> torch.Tensor:
        """Embed N items (already preprocessed and split texts): [N, D] float32."""

    def forward(self, items: list[str]) -> torch.Tensor:
        """Calling the model embeds items (`forward_items`)."""
        return self.forward_items(items)

    # --- description ---------------------------------------------------------------
    @property
    @abstractmethod
    def dimensions(self) -> int:
        """D, the length of every vector."""

    @property
    def normalized(self) -> bool:
        """Whether every vector this model returns has unit L2 norm."""
        return False

    @property
    def max_length(self) -> int | None:
        """The longest input in tokens the model reads (longer inputs are truncated)."""
        return None

    @property
    def tokenizer(self) -> Any:
        """The tokenizer of the towers, or None when the model does not tokenize text."""
        return None

    @property
    def device(self) -> torch.device:
        for parameter in self.parameters():
            return parameter.device
        return torch.device("cpu")

    def get_config(self) -> dict[str, Any]:
        """Small JSON-serializable description stored next to the weights."""
        return {"dimensions": self.dimensions, "normalized": self.normalized}

    # --- storage -------------------------------------------------------------------
    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the model's files into `directory` (created if missing)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Self:
        """Read a model written by `save(directory)`, on the CPU."""
