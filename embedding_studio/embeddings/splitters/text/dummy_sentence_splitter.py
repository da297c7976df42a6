"""A dependency-free sentence splitter, meant as the blocks splitter of
`TokenGroupTextSplitter`."""

from __future__ import annotations

import re

from embedding_studio.embeddings.splitters.item_splitter import ItemSplitter

# A fenced code block (```lang ... ```) stays one block.
_CODE_BLOCK = re.compile(r"```[^\n]*\n[\s\S]*?```")
# A sentence ends with . ! ? or an ellipsis (optionally followed by closing quotes or
# brackets) and whitespace, and the next sentence starts with an upper-case letter, a
# digit, or an opening quote/bracket. The look-ahead keeps "e.g. this" in one sentence.
_SENTENCE_END = re.compile(
    r"[.!?\u2026][\"'\u201d\u2019)\]]*(\s+)"
    r"(?=[\"'\u201c\u2018(\[A-Z0-9\u00c0-\u00d6\u00d8-\u00de\u0400-\u042f])"
)
# CJK full-width terminators need no following whitespace.
_CJK_SENTENCE_END = re.compile(r"(?<=[\u3002\uff01\uff1f])")


class DummySentenceSplitter(ItemSplitter):
    """Splits text into lines, then lines into sentences, with regular expressions only.

    - a fenced Markdown code block (```...```) is kept whole as one block;
    - every non-empty line is split at sentence ends (`.`, `!`, `?`, `...` followed by
      whitespace and a capital letter, a digit or an opening quote; CJK `。！？`);
    - blocks are stripped; empty blocks are dropped, so empty text gives `[]`.

    It knows no abbreviations beyond the capital-letter rule ("Dr. Smith" is split);
    that is harmless when `TokenGroupTextSplitter` regroups the sentences.

    Example::

        DummySentenceSplitter()("One. Two!\\nThree")  # ["One.", "Two!", "Three"]
    """

    def __call__(self, item: str) -> list[str]:
        """Split `item` (a string) into sentence blocks in their original order."""
        if not isinstance(item, str):
            raise TypeError(f"DummySentenceSplitter splits str items, got {type(item).__name__}")
        blocks: list[str] = []
        position = 0
        for code in _CODE_BLOCK.finditer(item):
            blocks.extend(_split_plain_text(item[position : code.start()]))
            blocks.append(code.group(0).strip())
            position = code.end()
        blocks.extend(_split_plain_text(item[position:]))
        return blocks


def _split_plain_text(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines():
        for sentence in _split_line(line):
            for piece in _CJK_SENTENCE_END.split(sentence):
                piece = piece.strip()
                if piece:
                    sentences.append(piece)
    return sentences


def _split_line(line: str) -> list[str]:
    """Cut `line` at each sentence end, keeping the punctuation and closing quotes."""
    pieces: list[str] = []
    start = 0
    for end in _SENTENCE_END.finditer(line):
        pieces.append(line[start : end.start(1)])
        start = end.end(1)
    pieces.append(line[start:])
    return pieces
