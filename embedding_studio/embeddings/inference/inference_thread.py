"""The one thread of a process that runs in-process model calls.

Torch's CPU kernels parallelise with OpenMP, whose team of threads belongs to the thread
that calls the model, and whose threads spin-wait after each parallel region so that the
next one starts fast. Calls from many threads (a web
server's thread pool, a worker's threads) therefore leave several teams spinning against
each other for the same cores: on 2 cores a 10 ms query encode took 16 ms when consecutive
calls came from 8 threads in turn. Running every call on one thread keeps one team, and
serialises the calls, which a CPU model wants anyway (one call already uses every core).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

THREAD_NAME = "model-inference"

_executor: ThreadPoolExecutor | None = None
_guard = threading.Lock()


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _guard:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
        return _executor


def _forget_after_fork() -> None:
    # A forked child has the executor object but not its thread: start a new one lazily.
    global _executor, _guard
    _executor, _guard = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def run_on_inference_thread(call: Callable[[], T]) -> T:
    """`call()` on the inference thread, waiting for its result (exceptions propagate).
    A call made from the inference thread itself runs in place (no deadlock)."""
    if threading.current_thread().name.startswith(THREAD_NAME):
        return call()
    return _get_executor().submit(call).result()
