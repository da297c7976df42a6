"""Reindex sync links on both document stores."""

from __future__ import annotations

from datetime import timedelta

from embedding_studio.data_access.documents import DocumentStore
from embedding_studio.data_access.reindex_links import ReindexLinkRepository, pair_id
from embedding_studio.models.tasks import utc_now

A, B, C = ("a" * 32, "b" * 32, "c" * 32)


def test_links_mirror_both_ways_and_one_step_only(store: DocumentStore) -> None:
    links = ReindexLinkRepository(store)
    links.open(A, B, "task-1")
    links.open(B, C, "task-2")
    assert links.linked_to(A) == [B]
    assert sorted(links.linked_to(B)) == [A, C]
    assert links.linked_to("d" * 32) == []


def test_reopening_a_pair_reuses_its_link_with_a_new_generation(store: DocumentStore) -> None:
    links = ReindexLinkRepository(store)
    first = links.open(A, B, "task-1")
    again = links.open(B, A, "task-3")  # a reindex back
    stored = links.get(A, B)
    assert stored == again and stored.generation != first.generation
    assert (stored.source, stored.dest, stored.task_id) == (B, A, "task-3")
    assert len(links.all()) == 1 and stored.link_id == pair_id(A, B)


def test_closing_keeps_the_link_until_it_expires_then_it_can_be_removed(
    store: DocumentStore,
) -> None:
    links = ReindexLinkRepository(store)
    links.open(A, B, "task-1")
    until = utc_now() + timedelta(hours=1)
    closed = links.close(A, B, until, retire=A)
    assert closed is not None and not closed.copying and closed.retire == A
    assert not closed.is_expired(utc_now()) and closed.is_expired(until)
    assert links.linked_to(A) == [B]  # still mirrored during the retention
    assert links.remove(A, B) and links.get(A, B) is None
    assert links.close(A, B, until, retire=None) is None
