"""Loading and unloading models on Triton through its model-control API (the server
runs with `--model-control-mode=explicit`), over gRPC.

Triton reports a model it cannot reach or load as `InferenceServerException`: an
unreachable server becomes `StorageUnavailable` (the task is retried), a model that
fails to load becomes `ModelLoadFailed` (with Triton's reason).
"""

from __future__ import annotations

import logging
import time
from functools import cached_property

from tritonclient.grpc import InferenceServerClient
from tritonclient.utils import InferenceServerException

from embedding_studio.core.errors import StorageUnavailable

logger = logging.getLogger(__name__)

POLL_S = 0.25
UNREACHABLE = ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")


class ModelLoadFailed(RuntimeError):
    """Triton refused to load a model (bad files, backend error) or did not finish in time."""


class TritonModelControl:
    """Model control of one Triton server.

    :param url: Triton's gRPC address, "host:port"
    :param timeout_s: deadline of one control call (a load may take this long)
    """

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    @cached_property
    def client(self) -> InferenceServerClient:
        return InferenceServerClient(url=self.url)

    def close(self) -> None:
        if "client" in vars(self):
            self.client.close()

    def _unreachable(self, exc: InferenceServerException) -> bool:
        return str(exc.status() or "") in UNREACHABLE

    def is_ready(self, name: str) -> bool:
        """Whether Triton serves `name` now."""
        try:
            return bool(self.client.is_model_ready(name, client_timeout=self.timeout_s))
        except InferenceServerException as exc:
            if self._unreachable(exc):
                raise StorageUnavailable(f"Triton at {self.url} is unreachable: {exc}") from exc
            return False

    def load(self, name: str) -> None:
        """Load (or reload) `name` from the repository and wait until it is ready.

        :raises ModelLoadFailed: Triton could not load it, or not within `timeout_s`
        :raises StorageUnavailable: Triton is unreachable
        """
        started = time.monotonic()
        try:
            self.client.load_model(name, client_timeout=self.timeout_s)
        except InferenceServerException as exc:
            if self._unreachable(exc) and not self._reached_server():
                raise StorageUnavailable(f"Triton at {self.url} is unreachable: {exc}") from exc
            raise ModelLoadFailed(f"Triton could not load model {name}: {exc}") from exc
        self._wait(name, ready=True, deadline=started + self.timeout_s)
        logger.info("model %s loaded on %s in %.1f s", name, self.url, time.monotonic() - started)

    def unload(self, name: str) -> None:
        """Unload `name` and wait until Triton no longer serves it; a model Triton does
        not serve is left as it is."""
        if not self.is_ready(name):
            return
        try:
            self.client.unload_model(name, client_timeout=self.timeout_s)
        except InferenceServerException as exc:
            if self._unreachable(exc):
                raise StorageUnavailable(f"Triton at {self.url} is unreachable: {exc}") from exc
            raise ModelLoadFailed(f"Triton could not unload model {name}: {exc}") from exc
        self._wait(name, ready=False, deadline=time.monotonic() + self.timeout_s)
        logger.info("model %s unloaded from %s", name, self.url)

    def _reached_server(self) -> bool:
        try:
            return bool(self.client.is_server_live(client_timeout=min(self.timeout_s, 5.0)))
        except InferenceServerException:
            return False

    def _wait(self, name: str, ready: bool, deadline: float) -> None:
        while self.is_ready(name) is not ready:
            if time.monotonic() >= deadline:
                state = "ready" if ready else "unloaded"
                raise ModelLoadFailed(f"model {name} was not {state} after {self.timeout_s:g} s")
            time.sleep(POLL_S)
