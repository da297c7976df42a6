"""The seeds' `prepare_data`: clickstream sessions to `RankingData` a model trains on.

ranking_dataset = prepare_data(
    clickstream, self.sessions_converter, self.splitter, self.retriever,
    self.data_loader, self.items_set_manager,
)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from embedding_studio.clickstream_storage.converters.converter import ClickstreamSessionConverter
from embedding_studio.clickstream_storage.converters.input_with_items import (
    FineTuningInputWithItems,
)
from embedding_studio.clickstream_storage.query_retriever import QueryRetriever
from embedding_studio.data_storage.loaders.data_loader import DataLoader
from embedding_studio.data_storage.loaders.item_meta import ItemMeta
from embedding_studio.embeddings.data.clickstream.fine_tuning_input import FineTuningInput
from embedding_studio.embeddings.data.clickstream.train_test_splitter import (
    TEST,
    TRAIN,
    ClickstreamSplits,
    TrainTestSplitter,
)
from embedding_studio.embeddings.data.items.manager import ItemSetManager
from embedding_studio.embeddings.data.ranking_data import RankingData
from embedding_studio.models.clickstream.sessions import SessionWithEvents

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

logger = logging.getLogger(__name__)


class NotEnoughData(ValueError):
    """The sessions cannot train a model; the message says why (the task is refused)."""


def prepare_data(
    clickstream: Sequence[SessionWithEvents],
    converter: ClickstreamSessionConverter,
    clickstream_splitter: TrainTestSplitter,
    query_retriever: QueryRetriever,
    loader: DataLoader,
    items_set_manager: ItemSetManager,
) -> RankingData:
    """Sessions -> train/test sessions and the parts of the items they showed.

    1. convert each session (clicked results are positives, the other shown results
       and the results of irrelevant sessions are negatives);
    2. read each query with the retriever (sessions whose query it cannot read are
       left out);
    3. load every shown item once with the loader; results that fail to load are
       removed from their sessions;
    4. split the sessions (whole queries) into train and test;
    5. preprocess the items of each split with the item set manager (normalize,
       convert, augment train only, split into parts).

    :raises NotEnoughData: no session, no click, or nothing could be loaded
    """
    if not clickstream:
        raise NotEnoughData("there are no sessions to learn from")
    converted = _with_queries(clickstream, converter, query_retriever)
    converted = [c for c in converted if c.input.is_usable]
    if not any(c.input.has_positives for c in converted):
        raise NotEnoughData(
            f"none of the {len(clickstream)} sessions has a click on a shown result"
        )
    usable = [c.input for c in converted]
    metas = _unique_metas(c.items for c in converted)
    loaded = loader.load(metas)
    id_field = _id_field(items_set_manager)
    loaded_ids = {str(i) for i in loaded[id_field]}
    usable = _without(usable, {m.id for m in metas} - loaded_ids, "could not be loaded")
    splits = clickstream_splitter.split(usable)
    parts = items_set_manager.preprocess(_items_by_split(loaded, splits, id_field))
    with_text = {str(i) for split in parts.values() for i in split[items_set_manager.id_field_name]}
    for name in (TRAIN, TEST):
        splits[name] = _without(splits[name], loaded_ids - with_text, "have no text")
    if not any(i.has_positives for i in splits[TRAIN]):
        raise NotEnoughData("no clicked result could be loaded for training")
    data = RankingData(clickstream=splits, items=parts)
    logger.info("prepared fine-tuning data: %s", data.describe())
    return data


def _with_queries(
    sessions: Sequence[SessionWithEvents],
    converter: ClickstreamSessionConverter,
    retriever: QueryRetriever,
) -> list[FineTuningInputWithItems]:
    """Converted sessions with their query read; a session whose query the retriever
    cannot read is left out."""
    kept = []
    for session in sessions:
        try:
            query_text = retriever.retrieve_query(session)
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("session %s left out: unreadable query: %s", session.session_id, exc)
            continue
        converted = converter.convert(session)
        converted.input.query_text = query_text
        kept.append(converted)
    return kept


def _unique_metas(groups: Any) -> list[ItemMeta]:
    metas: dict[str, ItemMeta] = {}
    for items in groups:
        for meta in items:
            metas.setdefault(meta.id, meta)
    return list(metas.values())


def _without(
    inputs: list[FineTuningInput], object_ids: set[str], why: str
) -> list[FineTuningInput]:
    if not object_ids:
        return inputs
    logger.warning("%d items %s; removed from their sessions", len(object_ids), why)
    for item in inputs:
        item.remove_results(object_ids)
    return [i for i in inputs if i.is_usable]


def _id_field(items_set_manager: ItemSetManager) -> str:
    normalizer = getattr(items_set_manager, "field_normalizer", None)
    return str(getattr(normalizer, "id_field_name", "item_id"))


def _items_by_split(loaded: Dataset, splits: ClickstreamSplits, id_field: str) -> DatasetDict:
    from datasets import DatasetDict

    row_of = {str(object_id): row for row, object_id in enumerate(loaded[id_field])}
    by_split = {}
    for name, sessions in splits.items():
        wanted = dict.fromkeys(i for s in sessions for i in s.results if i in row_of)
        by_split[name] = loaded.select([row_of[i] for i in wanted])
    return DatasetDict(by_split)
