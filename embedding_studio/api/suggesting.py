"""Suggestion routes: autocomplete (`get-top-k`) and management of the phrase pool.

Unknown phrase ids get 404 naming the id; a probability outside 0..1, an empty phrase
or top_k outside 1..100 get 422 naming the field. Every character of a phrase, a query,
a label or a domain is literal text.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from embedding_studio.api.deps import ContextDep
from embedding_studio.api.schemas.suggesting import (
    MAX_PHRASE_ID_CHARS,
    DeletePhraseResponse,
    GetSuggestionsRequest,
    GetSuggestionsResponse,
    ListPhrasesResponse,
    PhraseDomainsRequest,
    PhraseLabelsRequest,
    PhraseText,
    RemoveAllDomainsRequest,
    RemoveAllLabelsRequest,
    RemovedEverywhereResponse,
    SuggestingPhrasesAddingRequest,
    SuggestingPhrasesAddingResponse,
    SuggestingPhraseWithID,
    SuggestionResponse,
    Tag,
    UpdateProbabilityRequest,
)
from embedding_studio.services import suggesting
from embedding_studio.suggesting.text import phrase_id_of

router = APIRouter(prefix="/suggesting", tags=["suggesting"])

PhraseIdQuery = Annotated[str, Query(min_length=1, max_length=MAX_PHRASE_ID_CHARS)]


@router.post("/get-top-k", response_model=GetSuggestionsResponse)
def get_top_k(body: GetSuggestionsRequest, ctx: ContextDep) -> GetSuggestionsResponse:
    """Suggestions for what the user has typed, best first.

    The last word (unless followed by a space) is the start of a word; earlier words must
    match whole words, in order, anywhere in a phrase. Exact matches come first, then
    prefix matches; typos (edit distance 1-2) are looked for when nothing else matches.
    Within a match type: higher `prob` first, and labels take turns (diversity).
    `prefix + postfix` is the phrase, split where the typed text ends in it;
    `matching_span` locates the matched text in the phrase (characters).
    """
    found = suggesting.get_top_k(ctx, body.phrase, body.domain, body.top_k)
    return GetSuggestionsResponse(
        suggestions=[SuggestionResponse.from_domain(item) for item in found]
    )


@router.post("/phrases/add", response_model=SuggestingPhrasesAddingResponse)
def add_phrases(
    body: SuggestingPhrasesAddingRequest, ctx: ContextDep
) -> SuggestingPhrasesAddingResponse:
    """Add phrases (whitespace is normalised). Ids are derived from the text: adding a
    phrase again returns the same id and leaves it as it is (change it with the routes
    below); a deleted phrase added again comes back with the new values."""
    ids = suggesting.add_phrases(ctx, [phrase.to_domain() for phrase in body.phrases])
    return SuggestingPhrasesAddingResponse(phrase_ids=ids)


@router.delete("/phrases/delete/{phrase_id}", response_model=DeletePhraseResponse)
def delete_phrase(
    phrase_id: Annotated[str, Path(min_length=1, max_length=MAX_PHRASE_ID_CHARS)],
    ctx: ContextDep,
) -> DeletePhraseResponse:
    """Delete a phrase (404 if there is none with this id). Other ids do not change."""
    suggesting.delete_phrase(ctx, phrase_id)
    return DeletePhraseResponse(phrase_id=phrase_id, deleted=True)


@router.post("/phrases/add-labels", response_model=SuggestingPhraseWithID)
def add_labels(body: PhraseLabelsRequest, ctx: ContextDep) -> SuggestingPhraseWithID:
    stored = suggesting.add_labels(ctx, body.phrase_id, body.labels)
    return SuggestingPhraseWithID.from_domain(stored)


@router.post("/phrases/remove-labels", response_model=SuggestingPhraseWithID)
def remove_labels(body: PhraseLabelsRequest, ctx: ContextDep) -> SuggestingPhraseWithID:
    stored = suggesting.remove_labels(ctx, body.phrase_id, body.labels)
    return SuggestingPhraseWithID.from_domain(stored)


@router.post("/phrases/add-domains", response_model=SuggestingPhraseWithID)
def add_domains(body: PhraseDomainsRequest, ctx: ContextDep) -> SuggestingPhraseWithID:
    stored = suggesting.add_domains(ctx, body.phrase_id, body.domains)
    return SuggestingPhraseWithID.from_domain(stored)


@router.post("/phrases/remove-domains", response_model=SuggestingPhraseWithID)
def remove_domains(body: PhraseDomainsRequest, ctx: ContextDep) -> SuggestingPhraseWithID:
    stored = suggesting.remove_domains(ctx, body.phrase_id, body.domains)
    return SuggestingPhraseWithID.from_domain(stored)


@router.post("/phrases/update-probability", response_model=SuggestingPhraseWithID)
def update_probability(body: UpdateProbabilityRequest, ctx: ContextDep) -> SuggestingPhraseWithID:
    """Set `new_prob` (0..1). A learned phrase becomes manual: clicks no longer change it."""
    stored = suggesting.set_probability(ctx, body.phrase_id, body.new_prob)
    return SuggestingPhraseWithID.from_domain(stored)


@router.get("/phrases/get-info", response_model=SuggestingPhraseWithID)
def get_phrase_info(phrase_id: PhraseIdQuery, ctx: ContextDep) -> SuggestingPhraseWithID:
    return SuggestingPhraseWithID.from_domain(suggesting.get_phrase(ctx, phrase_id))


@router.get("/phrases/get-id", response_model=SuggestingPhraseWithID)
def get_phrase_id(
    phrase: Annotated[PhraseText, Query()], ctx: ContextDep
) -> SuggestingPhraseWithID:
    """The phrase with this exact text (whitespace normalised), 404 if not in the pool."""
    return SuggestingPhraseWithID.from_domain(suggesting.get_phrase(ctx, phrase_id_of(phrase)))


@router.get("/phrases/list", response_model=ListPhrasesResponse)
def list_phrases(
    ctx: ContextDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    label: Annotated[Tag | None, Query(description="Only phrases with this label")] = None,
    domain: Annotated[Tag | None, Query(description="Only phrases of this domain")] = None,
) -> ListPhrasesResponse:
    """A page of phrases in text order (Unicode code points)."""
    items, total = suggesting.list_phrases(ctx, offset, limit, label, domain)
    return ListPhrasesResponse(
        items=[SuggestingPhraseWithID.from_domain(item) for item in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post("/phrases/remove-all-labels", response_model=RemovedEverywhereResponse)
def remove_all_labels(body: RemoveAllLabelsRequest, ctx: ContextDep) -> RemovedEverywhereResponse:
    """Remove these labels from every phrase."""
    return RemovedEverywhereResponse(
        removed=suggesting.remove_everywhere(ctx, "labels", body.labels)
    )


@router.post("/phrases/remove-all-domains", response_model=RemovedEverywhereResponse)
def remove_all_domains(body: RemoveAllDomainsRequest, ctx: ContextDep) -> RemovedEverywhereResponse:
    """Remove these domains from every phrase."""
    return RemovedEverywhereResponse(
        removed=suggesting.remove_everywhere(ctx, "domains", body.domains)
    )
