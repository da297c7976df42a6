"""Turning stored objects back into content and embedding it with another model.

An object's content is recovered from its storage meta: inline items keep it there
(`{"source": "inline", "data": ...}`); the others keep their data loader's item meta, from
which the plugin's loader fetches the content again. Payloads and storage metas are
carried over unchanged; parts are split and embedded anew with the destination's plugin
and model, so the destination may split differently."""

from __future__ import annotations

from typing import Any

from embedding_studio.core.plugin import FineTuningMethod
from embedding_studio.models.embeddings.objects import Object
from embedding_studio.workers.upsertion.stages import (
    BatchOutcome,
    LoadedItem,
    SplitItem,
    build_objects,
    load_batch,
    split_batch,
)


def item_from_object(obj: Object) -> dict[str, Any]:
    """The upsertion item that would write `obj` again (the form `load_batch` reads)."""
    meta = obj.storage_meta
    if meta.get("source") == "inline" and "data" in meta:
        return {"object_id": obj.object_id, "payload": obj.payload, "data": meta["data"]}
    item_info = {key: value for key, value in meta.items() if key not in ("object_id", "payload")}
    return {"object_id": obj.object_id, "payload": obj.payload, "item_info": item_info}


def embed_split(
    plugin: FineTuningMethod, model_id: str, split: list[SplitItem], outcome: BatchOutcome
) -> None:
    """Embed the parts with `plugin`'s client of `model_id` into `outcome.objects`."""
    if not split:
        return
    texts = [part for entry in split for part in entry.parts]
    vectors = plugin.get_inference_client_factory().get_client(model_id).forward_items(texts)
    outcome.objects = build_objects(split, vectors.tolist())


def reembed_objects(
    source_plugin: FineTuningMethod,
    dest_plugin: FineTuningMethod,
    dest_model_id: str,
    objects: list[Object],
) -> BatchOutcome:
    """Objects for the destination (same ids, payloads, storage metas; new parts), and
    the objects whose content could not be loaded or split, as failures."""
    outcome = BatchOutcome()
    items = [item_from_object(obj) for obj in objects]
    loaded = load_batch(source_plugin, items, outcome)
    split = split_batch(dest_plugin, loaded, outcome)
    embed_split(dest_plugin, dest_model_id, split, outcome)
    return outcome


def resplit(
    source_plugin: FineTuningMethod, dest_plugin: FineTuningMethod, split: list[SplitItem]
) -> tuple[list[SplitItem], BatchOutcome]:
    """The parts of already loaded items as the destination's plugin splits them (the
    same parts when both collections belong to one plugin)."""
    outcome = BatchOutcome()
    if dest_plugin is source_plugin:
        return split, outcome
    items: list[LoadedItem] = [entry.item for entry in split]
    return split_batch(dest_plugin, items, outcome), outcome
