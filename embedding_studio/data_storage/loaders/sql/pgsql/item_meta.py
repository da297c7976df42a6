"""Items stored as rows of a PostgreSQL table (or query)."""

from __future__ import annotations

from embedding_studio.data_storage.loaders.item_meta import ItemMeta


class PgsqlFileMeta(ItemMeta):
    """A row, named by the value of the query generator's id column (`object_id`).

    Integer ids are accepted and kept as text: `PgsqlFileMeta(object_id=1).id == "1"`.
    """

    object_id: str
