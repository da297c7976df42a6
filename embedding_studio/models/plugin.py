"""Plugin metadata and the fine-tuning builder a plugin hands to the fine-tuning worker."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PluginMeta(BaseModel):
    """Identity of a plugin. `name` is what `INFERENCE_USED_PLUGINS` lists."""

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    version: str = "0.1.0"
    description: str = ""


class FineTuningBuilder:
    """Everything the fine-tuning worker needs to train a plugin's model.

    A plugin builds it in `get_fine_tuning_builder(clickstream)`, with the keyword
    arguments the seeds show (data_loader, query_retriever, clickstream_sessions_converter,
    clickstream_sessions_splitter, dataset_fields_normalizer, items_set_manager,
    accumulators, experiments_manager, fine_tuning_settings, initial_params, ranking_data,
    initial_max_evals). Values are kept as given; the worker reads them as attributes.
    """

    def __init__(
        self,
        data_loader: Any,
        query_retriever: Any,
        clickstream_sessions_converter: Any,
        clickstream_sessions_splitter: Any,
        dataset_fields_normalizer: Any,
        items_set_manager: Any,
        accumulators: list[Any],
        experiments_manager: Any,
        fine_tuning_settings: Any,
        initial_params: dict[str, list[Any]],
        ranking_data: Any,
        initial_max_evals: int = 100,
    ) -> None:
        self.data_loader = data_loader
        self.query_retriever = query_retriever
        self.clickstream_sessions_converter = clickstream_sessions_converter
        self.clickstream_sessions_splitter = clickstream_sessions_splitter
        self.dataset_fields_normalizer = dataset_fields_normalizer
        self.items_set_manager = items_set_manager
        self.accumulators = accumulators
        self.experiments_manager = experiments_manager
        self.fine_tuning_settings = fine_tuning_settings
        self.initial_params = initial_params
        self.ranking_data = ranking_data
        self.initial_max_evals = initial_max_evals
