"""How phrases and typed text are normalised, folded and split into words.

A phrase is stored normalised: Unicode NFC, no leading or trailing whitespace, and single
spaces between words. Matching compares *folded* text: lower-cased character by character,
so a folded string has exactly the length of the original and character offsets found in
the folded text are valid in the original (the spans the API returns rely on it).
Words are the whitespace-separated tokens; punctuation is part of a word and every
character is literal text.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass

MAX_PHRASE_CHARS = 512
"""Longest phrase (and typed text) accepted, in characters after normalisation."""

_PHRASE_ID_NAMESPACE = uuid.UUID("6f0b7d3e-4c5a-5e21-9d61-2f1c8a9b7e40")


def normalize_phrase(text: str) -> str:
    """NFC, trimmed, with every run of whitespace (and NUL, which PostgreSQL text cannot
    hold) made one space."""
    return " ".join(unicodedata.normalize("NFC", text.replace("\x00", " ")).split())


def _fold_char(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    """Lower-case `text` keeping its length: a character whose lower case is longer
    (the dotted capital I) stays as it is."""
    lowered = text.lower()
    if len(lowered) == len(text):  # lower() never shortens: every character mapped 1:1
        return lowered
    return "".join(_fold_char(char) for char in text)


def phrase_id_of(phrase: str) -> str:
    """The id of a normalised phrase: a UUID derived from its exact text, the same in
    every process and database (adding the phrase again finds the same id)."""
    return str(uuid.uuid5(_PHRASE_ID_NAMESPACE, phrase))


@dataclass(frozen=True)
class TypedText:
    """What the user has typed so far.

    :param text: the normalised typed text
    :param folded: `text` folded (same length)
    :param words: the folded words, in order
    :param last_word_complete: the user typed whitespace after the last word, so it is
        a whole word rather than the prefix of one
    """

    text: str
    folded: str
    words: tuple[str, ...]
    last_word_complete: bool

    @property
    def needle(self) -> str:
        """The folded text as it must appear in a folded phrase padded with spaces
        (`" " + folded phrase + " "`): starting at a word, and ending at a word end
        when the last word is complete."""
        return " " + self.folded + (" " if self.last_word_complete else "")


def parse_typed(raw: str) -> TypedText:
    """Split what the user typed; ValueError when it holds no word."""
    text = normalize_phrase(raw)
    if not text:
        raise ValueError("the phrase holds no word: type at least one non-space character")
    folded = fold(text)
    complete = raw != raw.rstrip()
    return TypedText(text, folded, tuple(folded.split(" ")), complete)


def word_starts(text: str) -> list[int]:
    """Character offsets where the words of a normalised text start."""
    starts = [0]
    position = text.find(" ")
    while position != -1:
        starts.append(position + 1)
        position = text.find(" ", position + 1)
    return starts
