"""Names of the models deployed to Triton: `<plugin>_<embedding model id>_<query|items>`.

The deployment worker and the clients both use `DeployedModelInfo`, so they agree on
names. When a plugin's query and items towers are one model, only the query copy is
deployed and both sides call it (`deployed_model_infos`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ModelType = Literal["query", "items"]
_NAME_PART = re.compile(r"^[A-Za-z0-9_\-]+$")
DEFAULT_MODEL_VERSION = "1"


@dataclass(frozen=True)
class DeployedModelInfo:
    """One tower of one embedding model, as a Triton model.

    :param plugin_name: the plugin's `meta.name`
    :param embedding_model_id: the MLflow run id of the model
    :param model_type: "query" or "items"
    :param version: the Triton model version folder ("1")
    """

    plugin_name: str
    embedding_model_id: str
    model_type: ModelType
    version: str = DEFAULT_MODEL_VERSION

    def __post_init__(self) -> None:
        named = (("plugin_name", self.plugin_name), ("model id", self.embedding_model_id))
        for label, value in named:
            if not _NAME_PART.match(value):
                raise ValueError(f"{label} {value!r} cannot be part of a Triton model name")
        if self.model_type not in ("query", "items"):
            raise ValueError(f"model_type must be 'query' or 'items', got {self.model_type!r}")

    @property
    def name(self) -> str:
        return f"{self.plugin_name}_{self.embedding_model_id}_{self.model_type}"


def deployed_model_infos(
    plugin_name: str, embedding_model_id: str, same_query_and_items: bool
) -> tuple[DeployedModelInfo, DeployedModelInfo]:
    """(query, items) infos; the same object twice when the towers are shared."""
    query = DeployedModelInfo(plugin_name, embedding_model_id, "query")
    if same_query_and_items:
        return query, query
    return query, DeployedModelInfo(plugin_name, embedding_model_id, "items")
