"""Build a loader's query generator from what a plugin passes: a class or a callable."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from sqlalchemy import Engine

from embedding_studio.core.errors import InvalidRequest
from embedding_studio.data_storage.loaders.sql.identifiers import checked_identifier
from embedding_studio.data_storage.loaders.sql.query_generator import QueryGenerator

QueryGeneratorFactory = Callable[..., QueryGenerator]
"""A `QueryGenerator` class (or subclass), or any callable returning a generator."""


def configuration_problem(factory: QueryGeneratorFactory, table_name: str | None) -> str | None:
    """Why `factory` cannot be built with `table_name`, or None; needs no database."""
    params = _parameters(factory)
    name = getattr(factory, "__name__", repr(factory))
    if "table_name" in params:
        required = params["table_name"].default is inspect.Parameter.empty
        if table_name is None and required:
            return (
                f"{name} needs a table: pass table_name=... to the loader, or pass a "
                "QueryGenerator subclass whose __init__(engine) names its table"
            )
    elif table_name is not None:
        return f"{name} names its own table; do not pass table_name={table_name!r}"
    if table_name is not None:
        try:
            checked_identifier(table_name, "table name")
        except InvalidRequest as exc:
            return str(exc)
    return None


def build_query_generator(
    factory: QueryGeneratorFactory,
    engine: Engine,
    table_name: str | None = None,
    id_column: str | None = None,
) -> QueryGenerator:
    """`factory(table_name, engine)` when it takes a table name, else `factory(engine)`.

    `id_column`, when given, overrides the generator's. Raises `InvalidRequest` when the
    arguments do not fit the factory.
    """
    problem = configuration_problem(factory, table_name)
    if problem:
        raise InvalidRequest(problem)
    params = _parameters(factory)
    if "table_name" not in params:
        generator = factory(engine)
    elif table_name is None:
        generator = factory(engine=engine) if "engine" in params else factory(engine)
    elif "engine" in params:
        generator = factory(table_name=table_name, engine=engine)
    else:
        generator = factory(table_name, engine)
    if id_column is not None:
        generator.id_column = checked_identifier(id_column, "id column name")
    return generator


def _parameters(factory: QueryGeneratorFactory) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(factory).parameters)
    except (TypeError, ValueError):  # a callable without a readable signature
        return {}
