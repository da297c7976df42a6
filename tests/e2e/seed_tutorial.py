"""The plugin of the seed tutorial (seed 001), assembled from the tutorial's own code
blocks: the imports (step 3), the class and its metadata (step 4), `__init__` (step 5),
the methods (step 6) and the custom query generator with the loader that uses it (step 7).

Only what cannot run here as written is changed, each change checked to apply once:
the model name (the offline all-MiniLM-L6-v2 instead of E5-base), its dimensions (384),
the connection string (a test database), and one import the tutorial forgets
(`VectorsAdjuster`, used in a return annotation)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"
CHECKED_IN_COPY = Path(__file__).parent / "data" / "seed_001_python_blocks.txt"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)

TUTORIAL_MODEL = '"intfloat/multilingual-e5-base"'
OFFLINE_MODEL = '"sentence-transformers/all-MiniLM-L6-v2"'
TUTORIAL_CONNECTION = '"postgresql://username:password@hostname:5432/database"'
MISSING_IMPORT = (
    "from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster"
)
PLUGIN_NAME = "CustomTextPlugin"


def tutorial_blocks() -> list[str]:
    """The Python code blocks of seed 001 (or of the checked-in copy without the seeds)."""
    seeds = sorted(SEEDS_DIR.glob("001_*.txt")) if SEEDS_DIR.is_dir() else []
    text = seeds[0] if seeds else CHECKED_IN_COPY
    return PYTHON_BLOCK.findall(text.read_text(encoding="utf-8"))


def _one(blocks: list[str], what: str, *needles: str, start: str = "") -> str:
    found = [b for b in blocks if b.startswith(start) and all(n in b for n in needles)]
    if len(found) != 1:
        raise AssertionError(f"the tutorial has {len(found)} blocks for {what}, expected 1")
    return found[0]


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"expected {old!r} once in the tutorial code, found {text.count(old)}")
    return text.replace(old, new)


def _loader_statement(usage_block: str) -> str:
    """`self.data_loader = PgsqlTextLoader(... ArticleQueryGenerator ...)` from step 7."""
    start = usage_block.index("self.data_loader = PgsqlTextLoader(")
    return usage_block[start:].rstrip() + "\n"


def _swap_loader(init_block: str, statement: str) -> str:
    pattern = re.compile(r"    self\.data_loader = PgsqlTextLoader\(\n.*?\n    \)\n", re.S)
    if len(pattern.findall(init_block)) != 1:
        raise AssertionError(
            "expected one PgsqlTextLoader(...) statement in the tutorial's __init__"
        )
    return pattern.sub(lambda _: textwrap.indent(statement, "    "), init_block)


def tutorial_plugin_source(connection_string: str) -> str:
    """The tutorial's plugin as one Python file, loading from `connection_string`."""
    blocks = tutorial_blocks()
    imports = _one(blocks, "imports", "from embedding_studio.core.plugin import FineTuningMethod")
    header = _one(blocks, "the class", "meta = PluginMeta(", start=f"class {PLUGIN_NAME}(")
    init = _one(blocks, "__init__", "self.model_name", start="def __init__(self):")
    methods = _one(
        blocks, "the methods", "def get_vectordb_optimizations", start="def upload_initial_model"
    )
    generator = _one(blocks, "the query generator", "class ArticleQueryGenerator(QueryGenerator)")
    usage = _one(blocks, "the loader", "query_generator=ArticleQueryGenerator", start="# In your")

    init = _replace_once(init, TUTORIAL_MODEL, OFFLINE_MODEL)
    init = _replace_once(init, TUTORIAL_CONNECTION, repr(connection_string))
    init = _swap_loader(init, _loader_statement(usage))
    methods = _replace_once(methods, "dimensions=768", "dimensions=384")
    return "\n".join(
        [
            imports.rstrip(),
            MISSING_IMPORT,
            "",
            "",
            generator.rstrip(),
            "",
            "",
            header.rstrip(),
            "",
            textwrap.indent(init.rstrip(), "    "),
            "",
            textwrap.indent(methods.rstrip(), "    "),
            "",
        ]
    )
