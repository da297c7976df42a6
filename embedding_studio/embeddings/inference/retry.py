"""Retry policies for calls to inference servers (the seeds' `RetryConfig`).

A `RetryConfig` holds named `RetryParams` ("query_inference", "items_inference", ...)
and a default for names it does not list. `retry_method(name)` decorates a method of an
object with a `retry_config` attribute: the call is retried on the exceptions the
object's `is_retryable(exc)` accepts, `max_attempts` times in all, sleeping
`wait_time_seconds * backoff_factor ** attempt` between attempts.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class RetryParams(BaseModel):
    """How one kind of call is retried.

    :param max_attempts: attempts in all, the first included (>= 1)
    :param wait_time_seconds: pause after the first failure, in seconds
    :param backoff_factor: each further pause is this many times longer
    """

    max_attempts: int = Field(default=3, ge=1)
    wait_time_seconds: float = Field(default=0.5, ge=0)
    backoff_factor: float = Field(default=2.0, ge=1)

    def wait_before(self, attempt: int) -> float:
        """Seconds to sleep before attempt number `attempt` (2, 3, ...)."""
        return self.wait_time_seconds * self.backoff_factor ** max(0, attempt - 2)


class RetryConfig:
    """Named retry policies with a default.

    >>> config = RetryConfig(default_params=RetryParams(max_attempts=2))
    >>> config["query_inference"] = RetryParams(max_attempts=5)
    >>> config["items_inference"].max_attempts
    2
    """

    def __init__(
        self,
        default_params: RetryParams | None = None,
        params: dict[str, RetryParams] | None = None,
    ) -> None:
        self.default_params = default_params or RetryParams()
        self._params: dict[str, RetryParams] = dict(params or {})

    def __getitem__(self, name: str) -> RetryParams:
        return self._params.get(name, self.default_params)

    def __setitem__(self, name: str, params: RetryParams) -> None:
        self._params[name] = params

    def __contains__(self, name: object) -> bool:
        return name in self._params


def call_with_retry(
    call: Callable[[], R],
    params: RetryParams,
    is_retryable: Callable[[BaseException], bool],
    name: str = "call",
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
) -> R:
    """Run `call()`, retrying per `params` while `is_retryable(exc)`; the last
    exception propagates. With `deadline` (a `time.monotonic()` value), no attempt
    starts after it: the caller bounds the whole call, retries included."""
    attempt = 1
    while True:
        try:
            return call()
        except Exception as exc:
            if attempt >= params.max_attempts or not is_retryable(exc):
                raise
            attempt += 1
            pause = params.wait_before(attempt)
            if deadline is not None and time.monotonic() + pause >= deadline:
                raise
            logger.warning(
                "%s failed (%s); attempt %d of %d in %.2f s",
                name, exc, attempt, params.max_attempts, pause,
            )  # fmt: skip
            sleep(pause)


def retry_method(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Retry a method per `self.retry_config[name]` and `self.is_retryable(exc)`."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            owner: Any = args[0]
            config: RetryConfig = getattr(owner, "retry_config", None) or RetryConfig()
            checker = getattr(owner, "is_retryable", None) or (lambda _exc: False)
            return call_with_retry(
                lambda: method(*args, **kwargs), config[name], checker, name=name
            )

        return wrapper

    return decorate
