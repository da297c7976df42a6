"""The improvement worker's periodic trigger: a Dramatiq middleware that, in each worker
process, sends one `improvement_worker` message at boot (to take what was marked while
no worker ran) and then one every `IMPROVEMENT_SECONDS_INTERVAL` seconds.

Triggers go through the queue like any other message, so retries and time limits apply
alike. Several worker processes each run a timer; that only sends extra messages, since
records are claimed atomically and a run with nothing pending ends at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from dramatiq import Middleware

logger = logging.getLogger(__name__)


class PeriodicTrigger(Middleware):
    """Calls `send` at worker boot and then every `interval_s` seconds until shutdown.

    :param warm_up: called once in the timer thread before the first trigger (e.g. to
        build the context and load the model, so the first real trigger is fast); its
        errors are logged, never raised
    """

    def __init__(
        self,
        send: Callable[[], Any],
        interval_s: float,
        warm_up: Callable[[], Any] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0; got {interval_s}")
        self.send = send
        self.interval_s = interval_s
        self.warm_up = warm_up
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: Any, worker: Any) -> None:  # noqa: ARG002
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="improvement-timer", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:  # noqa: ARG002
        self._stop.set()
        # The thread is a daemon and may be inside a warm-up that loads the model for
        # several seconds; waiting for it would only delay the worker's exit past the
        # supervisor's grace period. A short join lets an in-flight send finish.
        if self._thread is not None:
            self._thread.join(timeout=1)

    def _run(self) -> None:
        if self.warm_up is not None:
            try:
                self.warm_up()
            except Exception:  # a timer thread's boundary: log and go on
                logger.exception("improvement warm-up failed; the first run will load lazily")
        while not self._stop.is_set():
            try:
                self.send()
            except Exception:  # Redis away: the next tick tries again
                logger.exception("periodic improvement trigger not sent")
            if self._stop.wait(self.interval_s):
                return
