"""A converted session and the metadata of the items it needs loaded."""

from __future__ import annotations

from dataclasses import dataclass, field

from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput


@dataclass
class FineTuningInputWithItems:
    """`input` plus one `ItemMeta` per result (what the plugin's data loader loads).

    :param dropped: result id -> why it was left out (its stored meta did not fit the
        converter's item type)
    """

    input: FineTuningInput
    items: list[ItemMeta] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
