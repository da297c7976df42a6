"""Edit distance (optimal string alignment: insertions, deletions, substitutions and
adjacent transpositions, each 1) between a typed word and a vocabulary, vectorised.

Two measures:
- *whole*: the distance between the typed word and a vocabulary word;
- *prefix*: the smallest distance between the typed word and any prefix of a vocabulary
  word (what a typed, unfinished word is compared with).

`WordMatrix.candidates` first discards, with a character-set filter, the words that cannot be
within the bound (a typed character missing from the word costs at least one edit), then
runs the dynamic programme for the survivors only, all of them at once with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAX_WORD_CHARS = 40
"""Characters of a vocabulary word kept for fuzzy matching; longer typed words match
exactly only."""

_FAR = 10_000


def _char_bit(char: str) -> int:
    code = ord(char)
    if 97 <= code <= 122:  # a-z
        return code - 97
    if 48 <= code <= 57:  # 0-9
        return 26 + code - 48
    return 36 + code % 28


def char_mask(word: str) -> int:
    """A 64-bit set of the word's characters (several rare characters may share a bit)."""
    mask = 0
    for char in word:
        mask |= 1 << _char_bit(char)
    return mask


def _osa_last_row(a: str, b: str) -> list[int]:
    """Row len(a) of the programme: entry j is the distance between `a` and `b[:j]`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        previous2, previous = previous, current
    return previous


def osa_distance(a: str, b: str) -> int:
    """The optimal-string-alignment distance between two strings (scalar)."""
    return _osa_last_row(a, b)[len(b)]


def prefix_distance(typed: str, word: str) -> tuple[int, int]:
    """(distance, length) of the prefix of `word` closest to `typed`; the shortest such
    prefix on ties."""
    row = _osa_last_row(typed, word)
    best = min(row)
    return best, row.index(best)


_MAX_BAND = 2
"""The largest distance the matrix supports (the width of the diagonal band)."""
_LEFT = _MAX_BAND + 1
_PAD = 2 * _MAX_BAND + 1


@dataclass(frozen=True)
class WordMatrix:
    """A vocabulary laid out for vectorised matching.

    :param words: the words, in index order
    :param codes: (len(words), MAX_WORD_CHARS + padding) code points: -1 before the word,
        0 after it
    :param lengths: each word's length (not truncated)
    :param prefix_masks: (len(words), MAX_WORD_CHARS) character sets of each prefix:
        column c holds the set of the first c + 1 characters
    """

    words: tuple[str, ...]
    codes: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.int32]
    prefix_masks: npt.NDArray[np.uint64]

    @classmethod
    def build(cls, words: Sequence[str]) -> WordMatrix:
        count = len(words)
        codes = np.zeros((count, _LEFT + MAX_WORD_CHARS + _PAD), dtype=np.int32)
        codes[:, :_LEFT] = -1
        bits = np.zeros((count, MAX_WORD_CHARS), dtype=np.uint64)
        for row, word in enumerate(words):
            head = word[:MAX_WORD_CHARS]
            codes[row, _LEFT : _LEFT + len(head)] = [ord(char) for char in head]
            bits[row, : len(head)] = [1 << _char_bit(char) for char in head]
        masks = np.bitwise_or.accumulate(bits, axis=1) if count else bits
        lengths = np.array([len(word) for word in words], dtype=np.int32)
        return cls(tuple(words), codes, lengths, masks)

    def __len__(self) -> int:
        return len(self.words)

    def candidates(self, typed: str, max_distance: int, prefix: bool) -> dict[str, int]:
        """The words within `max_distance` (0-2) of `typed` (prefix distance when
        `prefix`), with their distance."""
        m = len(typed)
        if not 0 <= max_distance <= _MAX_BAND:
            raise ValueError(f"max_distance must be 0..{_MAX_BAND}, got {max_distance}")
        if not len(self) or m == 0 or m + max_distance > MAX_WORD_CHARS:
            return {}
        rows = self._survivors(typed, max_distance, prefix)
        if rows.size == 0:
            return {}
        band = self._band(typed, rows, max_distance)
        # band[:, c] is the distance to the word's prefix of length m + c - max_distance
        lengths = self.lengths[rows]
        if prefix:
            ends = m - max_distance + np.arange(2 * max_distance + 1)
            valid = (ends[None, :] >= 0) & (ends[None, :] <= lengths[:, None])
            distances = np.where(valid, band, _FAR).min(axis=1)
        else:
            distances = band[np.arange(rows.size), lengths - m + max_distance]
        keep = np.nonzero(distances <= max_distance)[0]
        return {self.words[rows[k]]: int(distances[k]) for k in keep}

    def _survivors(self, typed: str, max_distance: int, prefix: bool) -> npt.NDArray[np.intp]:
        """Rows that may be within the bound: long enough, and missing at most
        `max_distance` of the typed characters (each costs an edit)."""
        m = len(typed)
        lengths = self.lengths
        if prefix:
            fits = lengths >= m - max_distance
            column = min(m + max_distance, MAX_WORD_CHARS) - 1
        else:
            fits = np.abs(lengths - m) <= max_distance
            column = MAX_WORD_CHARS - 1
        typed_mask = np.uint64(char_mask(typed))
        word_masks = self.prefix_masks[:, column]
        fits &= np.bitwise_count(typed_mask & ~word_masks) <= max_distance
        if not prefix:
            fits &= np.bitwise_count(word_masks & ~typed_mask) <= max_distance
        return np.nonzero(fits)[0]

    def _band(self, typed: str, rows: npt.NDArray[np.intp], d: int) -> npt.NDArray[np.int32]:
        """The programme's last row restricted to the diagonal band |j - i| <= d (cells
        outside it exceed d): column c is j = len(typed) + c - d. Laid out one band cell
        per array row, so every operation runs over all words at once."""
        width = 2 * d + 1
        words = np.ascontiguousarray(self.codes[rows].T)  # (characters, words)
        offsets = np.arange(-d, d + 1, dtype=np.int32)
        initial = np.where(offsets >= 0, offsets, _FAR).astype(np.int32)
        band = np.repeat(initial[:, None], rows.size, axis=1)
        band2 = band
        codes = [ord(char) for char in typed]
        for i, code in enumerate(codes, start=1):
            start = _LEFT + i - d - 1  # row of w[j - 1] for the band's first cell
            before = words[start : start + width]
            step = band + (before != code)
            np.minimum(step[:-1], band[1:] + 1, out=step[:-1])  # deletion
            if i > 1:
                swapped = (words[start - 1 : start - 1 + width] == code) & (before == codes[i - 2])
                np.minimum(step, np.where(swapped, band2 + 1, _FAR), out=step)
            for cell in range(1, width):  # insertion, left to right
                np.minimum(step[cell], step[cell - 1] + 1, out=step[cell])
            band2, band = band, step
        return np.ascontiguousarray(band.T)
