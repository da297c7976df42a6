"""Suggestion requests and responses.

Probabilities are named `prob` (as in the reference API); requests also accept
`probability`. Labels and domains are free text (1-128 characters after trimming).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AliasChoices, BaseModel, Field

from embedding_studio.suggesting.models import (
    MatchType,
    NewPhrase,
    PhraseOrigin,
    StoredPhrase,
    Suggestion,
)
from embedding_studio.suggesting.suggester import MAX_TOP_K
from embedding_studio.suggesting.text import MAX_PHRASE_CHARS, normalize_phrase

MAX_TAG_CHARS = 128
MAX_TAGS = 100
MAX_PHRASES_PER_REQUEST = 10_000
MAX_PHRASE_ID_CHARS = 256


def _phrase(value: str) -> str:
    phrase = normalize_phrase(value)
    if not phrase:
        raise ValueError("the phrase is empty: give at least one non-space character")
    if len(phrase) > MAX_PHRASE_CHARS:
        raise ValueError(f"the phrase has {len(phrase)} characters; at most {MAX_PHRASE_CHARS}")
    return phrase


def _tag(value: str) -> str:
    tag = normalize_phrase(value)
    if not 1 <= len(tag) <= MAX_TAG_CHARS:
        raise ValueError(f"labels and domains have 1-{MAX_TAG_CHARS} non-blank characters")
    return tag


def _typed(value: str) -> str:
    _phrase(value)  # checks it holds a word and is not too long; spacing is kept
    return value


PhraseText = Annotated[str, AfterValidator(_phrase)]
Tag = Annotated[str, AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, description="0..1; higher ranks first")]
PhraseId = Annotated[str, Field(min_length=1, max_length=MAX_PHRASE_ID_CHARS)]


class GetSuggestionsRequest(BaseModel):
    phrase: Annotated[str, AfterValidator(_typed)] = Field(
        ...,
        description="What the user has typed so far; a trailing space means the last "
        "word is complete",
    )
    domain: Tag | None = Field(None, description="Only phrases of this domain")
    top_k: int = Field(10, ge=1, le=MAX_TOP_K, description="Suggestions wanted, 1..100")


class Span(BaseModel):
    start: int = Field(..., description="First character of the matched text in `phrase`")
    end: int = Field(..., description="Character after it (exclusive)")


class SuggestionResponse(BaseModel):
    phrase_id: str
    phrase: str = Field(..., description="The suggested phrase: prefix + postfix")
    prefix: str = Field(..., description="The phrase up to where the typed text ends")
    postfix: str = Field(..., description="The completion: the rest of the phrase")
    matching_span: Span
    match_type: MatchType
    prob: float
    labels: list[str]
    domains: list[str]

    @classmethod
    def from_domain(cls, suggestion: Suggestion) -> SuggestionResponse:
        return cls(
            phrase_id=suggestion.phrase_id,
            phrase=suggestion.phrase,
            prefix=suggestion.prefix,
            postfix=suggestion.postfix,
            matching_span=Span(start=suggestion.start, end=suggestion.end),
            match_type=suggestion.match_type,
            prob=suggestion.prob,
            labels=list(suggestion.labels),
            domains=list(suggestion.domains),
        )


class GetSuggestionsResponse(BaseModel):
    suggestions: list[SuggestionResponse]


class SuggestingPhrase(BaseModel):
    phrase: PhraseText
    labels: Tags = Field(default_factory=list)
    domains: Tags = Field(default_factory=list)
    prob: Probability = Field(1.0, validation_alias=AliasChoices("prob", "probability"))

    def to_domain(self) -> NewPhrase:
        return NewPhrase(self.phrase, self.prob, tuple(self.labels), tuple(self.domains))


class SuggestingPhraseWithID(BaseModel):
    phrase_id: str
    phrase: str
    prob: float
    labels: list[str]
    domains: list[str]
    origin: PhraseOrigin = Field(..., description="manual (API) or learned (clickstream)")
    clicks: int = Field(..., description="Clicks counted from clickstream sessions")

    @classmethod
    def from_domain(cls, stored: StoredPhrase) -> SuggestingPhraseWithID:
        return cls(
            phrase_id=stored.phrase_id,
            phrase=stored.phrase,
            prob=stored.prob,
            labels=list(stored.labels),
            domains=list(stored.domains),
            origin=stored.origin,
            clicks=stored.clicks,
        )


class SuggestingPhrasesAddingRequest(BaseModel):
    phrases: list[SuggestingPhrase] = Field(..., min_length=1, max_length=MAX_PHRASES_PER_REQUEST)


class SuggestingPhrasesAddingResponse(BaseModel):
    phrase_ids: list[str] = Field(..., description="The id of each phrase, in request order")


class PhraseLabelsRequest(BaseModel):
    phrase_id: PhraseId
    labels: Tags = Field(..., min_length=1)


class PhraseDomainsRequest(BaseModel):
    phrase_id: PhraseId
    domains: Tags = Field(..., min_length=1)


class UpdateProbabilityRequest(BaseModel):
    phrase_id: PhraseId
    new_prob: Probability = Field(
        ..., validation_alias=AliasChoices("new_prob", "prob", "probability")
    )


class RemoveAllLabelsRequest(BaseModel):
    labels: Tags = Field(..., min_length=1)


class RemoveAllDomainsRequest(BaseModel):
    domains: Tags = Field(..., min_length=1)


class RemovedEverywhereResponse(BaseModel):
    removed: dict[str, int] = Field(..., description="Per label or domain: phrases that had it")


class DeletePhraseResponse(BaseModel):
    phrase_id: str
    deleted: bool


class ListPhrasesResponse(BaseModel):
    items: list[SuggestingPhraseWithID]
    total: int = Field(..., description="Phrases matching the filters")
    offset: int
    limit: int
