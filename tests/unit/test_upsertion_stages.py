"""The upsertion stages with a real file loader: per-item failures carry the stage."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from embedding_studio.data_storage.loaders.local.local_file_loader import LocalTextFileLoader
from embedding_studio.workers.upsertion.stages import BatchOutcome, build_objects, load_batch


def _plugin(root: Path) -> SimpleNamespace:
    loader = LocalTextFileLoader(root_dir=str(root))
    return SimpleNamespace(get_data_loader=lambda: loader)


def test_loader_items_and_inline_items_load_and_failures_name_their_item(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha text")
    items = [
        {"object_id": "inline", "data": "inline text", "payload": {"k": 1}, "item_info": {}},
        {"object_id": "file-a", "payload": {"k": 2}, "item_info": {"path": "a.txt"}},
        {"object_id": "file-missing", "payload": None, "item_info": {"path": "missing.txt"}},
        {"object_id": "escape", "payload": None, "item_info": {"path": "../../etc/passwd"}},
        {"object_id": "no-info", "payload": None, "item_info": {}},
    ]
    outcome = BatchOutcome()
    loaded = load_batch(_plugin(tmp_path), items, outcome)
    by_id = {item.object_id: item for item in loaded}
    assert set(by_id) == {"inline", "file-a"}
    assert by_id["file-a"].data == "alpha text"
    assert by_id["file-a"].payload == {"k": 2}
    assert by_id["file-a"].storage_meta["path"] == "a.txt"
    assert by_id["inline"].storage_meta == {"source": "inline", "data": "inline text"}
    failed = {f.object_id: f for f in outcome.failures}
    assert set(failed) == {"file-missing", "escape", "no-info"}
    assert all(f.stage == "load" for f in failed.values())
    assert "item_info" in failed["no-info"].detail


def test_build_objects_assigns_each_item_its_parts_in_order() -> None:
    from embedding_studio.workers.upsertion.stages import LoadedItem, SplitItem

    items = [
        SplitItem(LoadedItem("a", "x", None, {}), ["a0", "a1"]),
        SplitItem(LoadedItem("b", "y", {"p": 1}, {}), ["b0"]),
    ]
    objects = build_objects(items, [[0.0], [1.0], [2.0]])
    assert [(o.object_id, [p.part_id for p in o.parts]) for o in objects] == [
        ("a", ["a:0", "a:1"]),
        ("b", ["b:0"]),
    ]
    assert objects[1].parts[0].vector == [2.0] and objects[1].payload == {"p": 1}
