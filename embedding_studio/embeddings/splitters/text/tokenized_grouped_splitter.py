"""Token-limited parts: group sentence blocks so that no part exceeds the model's
maximum sequence length."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedding_studio.embeddings.splitters.item_splitter import ItemSplitter
from embedding_studio.embeddings.splitters.text.dummy_sentence_splitter import (
    DummySentenceSplitter,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

# Tokenizers without a known limit report a huge sentinel (int(1e30)).
_NO_LIMIT = 1_000_000
_SENTENCE_TRANSFORMERS_CONFIG = "sentence_bert_config.json"
_SENTENCES = DummySentenceSplitter()


class TokenGroupTextSplitter(ItemSplitter):
    """Splits a text into parts that each fit the embedding model's input.

    The text is first cut into blocks by `blocks_splitter` (sentences, JSON fields...).
    Consecutive blocks are then grouped, joined by `separator`, while the group's token
    count stays within the budget; a single block longer than the budget is cut at token
    boundaries: first into sentences, then, for a sentence still too long, into
    windows of tokens (the original characters are kept: pieces are slices of the
    input, never decoded tokens). Every part, once tokenized *with* special tokens, is
    at most `max_tokens` tokens long.

    Token budget (content tokens per part) =
    `min(max_tokens, model limit) - special tokens ([CLS], [SEP]...) - reserved_tokens`,
    where the model limit is the tokenizer's `model_max_length` and, when the tokenizer
    was loaded from a local sentence-transformers folder, its `max_seq_length` (for
    all-MiniLM-L6-v2: 256, although its tokenizer says 512). Tokens are counted with the
    given tokenizer, without special tokens.

    :param tokenizer: the model's Hugging Face tokenizer, e.g.
        `AutoTokenizer.from_pretrained(model_name)` (fast or slow).
    :param blocks_splitter: callable `text -> list[str]`, e.g. `DummySentenceSplitter()`
        or `JSONSplitter([...])`.
    :param max_tokens: maximum sequence length of a part, special tokens included; None
        means the model limit. Values above the model limit are lowered to it.
    :param split_sentences: cut blocks longer than the budget into sentences, then at
        token boundaries (default). If False, such a block becomes one part and may be
        truncated by the model.
    :param reserved_tokens: extra tokens to keep free in every part, e.g. for a prefix
        the model adds (E5's "passage: " costs 4 tokens).
    :param separator: the string joining grouped blocks.
    :raises ValueError: if the budget left for content is below one token.

    An empty or whitespace-only text gives no parts (`[]`).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        blocks_splitter: Callable[[Any], list[str]],
        max_tokens: int | None = 512,
        split_sentences: bool = True,
        reserved_tokens: int = 0,
        separator: str = " ",
    ) -> None:
        self.tokenizer = tokenizer
        self.blocks_splitter = blocks_splitter
        self.split_sentences = split_sentences
        self.separator = separator
        self.max_tokens = _effective_max_tokens(tokenizer, max_tokens)
        special = tokenizer.num_special_tokens_to_add(pair=False)
        self.budget = self.max_tokens - special - reserved_tokens
        if self.budget < 1:
            raise ValueError(
                f"max_tokens={self.max_tokens} leaves no room for content after "
                f"{special} special and {reserved_tokens} reserved tokens"
            )

    def count_tokens(self, text: str) -> int:
        """Number of tokens of `text` without special tokens."""
        return len(self._encode([text])[0])

    def __call__(self, item: Any) -> list[str]:
        """Split `item` into token-limited parts, in order; `[]` for an empty text."""
        return self._group([block for block in self.blocks_splitter(item) if block.strip()])

    def _group(self, blocks: list[str]) -> list[str]:
        """Greedily join consecutive blocks while they fit the budget."""
        if not blocks:
            return []
        counts = [len(ids) for ids in self._encode(blocks)]
        parts: list[str] = []
        group: list[str] = []
        group_count = 0
        for block, count in zip(blocks, counts, strict=True):
            if count > self.budget:
                parts.extend(self._close_group(group))
                group, group_count = [], 0
                parts.extend(self._split_block(block) if self.split_sentences else [block])
                continue
            if group and group_count + count > self.budget:
                parts.extend(self._close_group(group))
                group, group_count = [], 0
            group.append(block)
            group_count += count
        parts.extend(self._close_group(group))
        return parts

    def _close_group(self, group: list[str]) -> list[str]:
        """Join a group; if joining changed the token count past the budget (rare, at
        block edges), cut the joined text by tokens instead."""
        if not group:
            return []
        text = self.separator.join(group)
        if len(group) == 1 or self.count_tokens(text) <= self.budget:
            return [text]
        return self._cut_by_tokens(text)

    def _split_block(self, text: str) -> list[str]:
        """Split a block over the budget: by sentences if it has several (a long JSON
        field, say), else at token boundaries."""
        sentences = _SENTENCES(text)
        if len(sentences) > 1:
            return self._group(sentences)
        return self._cut_by_tokens(text)

    def _cut_by_tokens(self, text: str) -> list[str]:
        if getattr(self.tokenizer, "is_fast", False):
            return self._split_by_offsets(text)
        return self._split_by_words(text)

    def _split_by_offsets(self, text: str) -> list[str]:
        """Cut `text` into windows of at most `budget` tokens, as slices of `text`."""
        encoding = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        offsets = [span for span in encoding["offset_mapping"] if span[1] > span[0]]
        parts: list[str] = []
        start = 0
        while start < len(offsets):
            end = _word_boundary(offsets, start, min(start + self.budget, len(offsets)))
            while True:
                piece = text[offsets[start][0] : offsets[end - 1][1]].strip()
                excess = self.count_tokens(piece) - self.budget
                if excess <= 0 or end - start == 1:
                    break
                end = max(start + 1, end - excess)
            if piece:
                parts.append(piece)
            start = end
        return parts

    def _split_by_words(self, text: str) -> list[str]:
        """Slow-tokenizer fallback: pack whitespace-separated words up to the budget."""
        words = text.split()
        counts = [len(ids) for ids in self._encode(words)] if words else []
        parts: list[str] = []
        current: list[str] = []
        current_count = 0
        for word, count in zip(words, counts, strict=True):
            if count > self.budget:
                parts.extend(self._pack_words(current))
                current, current_count = [], 0
                parts.extend(_cut_characters(word, self))
                continue
            if current and current_count + count > self.budget:
                parts.extend(self._pack_words(current))
                current, current_count = [], 0
            current.append(word)
            current_count += count
        parts.extend(self._pack_words(current))
        return parts

    def _pack_words(self, words: list[str]) -> list[str]:
        """Join words; halve the list while the joined text is over the budget."""
        if not words:
            return []
        text = " ".join(words)
        if len(words) == 1 or self.count_tokens(text) <= self.budget:
            return [text]
        middle = len(words) // 2
        return self._pack_words(words[:middle]) + self._pack_words(words[middle:])

    def _encode(self, texts: list[str]) -> list[list[int]]:
        # verbose=False: long blocks are expected here, the length warning is noise.
        encoded = self.tokenizer(texts, add_special_tokens=False, verbose=False)
        return list(encoded["input_ids"])


def _word_boundary(offsets: list[tuple[int, int]], start: int, end: int) -> int:
    """Move a window end back to the start of a word (a token after whitespace) so a
    word is not cut in two, unless that would halve the window."""
    if end >= len(offsets):
        return end
    for candidate in range(end, start + max(1, (end - start) // 2), -1):
        if offsets[candidate][0] > offsets[candidate - 1][1]:
            return candidate
    return end


def _cut_characters(word: str, splitter: TokenGroupTextSplitter) -> list[str]:
    """Halve a single over-long word until every piece fits the budget."""
    if len(word) <= 1 or splitter.count_tokens(word) <= splitter.budget:
        return [word]
    middle = len(word) // 2
    return _cut_characters(word[:middle], splitter) + _cut_characters(word[middle:], splitter)


def _effective_max_tokens(tokenizer: PreTrainedTokenizerBase, max_tokens: int | None) -> int:
    limits = [limit for limit in _model_limits(tokenizer) if 0 < limit < _NO_LIMIT]
    if max_tokens is None:
        if not limits:
            raise ValueError("the tokenizer has no model_max_length; pass max_tokens")
        return min(limits)
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    if limits and max_tokens > min(limits):
        logger.info(
            "max_tokens %d is above the model's maximum sequence length; using %d",
            max_tokens,
            min(limits),
        )
        return min(limits)
    return max_tokens


def _model_limits(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    limits = [int(getattr(tokenizer, "model_max_length", _NO_LIMIT) or _NO_LIMIT)]
    name_or_path = str(getattr(tokenizer, "name_or_path", "") or "")
    if not name_or_path:
        return limits
    config = Path(name_or_path) / _SENTENCE_TRANSFORMERS_CONFIG
    try:
        if config.is_file():
            max_seq_length = json.loads(config.read_text()).get("max_seq_length")
            if isinstance(max_seq_length, int):
                limits.append(max_seq_length)
    except (OSError, ValueError) as exc:
        logger.warning("could not read %s: %s", config, exc)
    return limits
