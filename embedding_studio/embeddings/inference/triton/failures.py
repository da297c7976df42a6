"""What a failed Triton call means: retry it, or tell the caller what to do."""

from __future__ import annotations

from dataclasses import dataclass

from tritonclient.utils import InferenceServerException

from embedding_studio.core.errors import InferenceUnavailable

_TRANSIENT = {
    "StatusCode.UNAVAILABLE",
    "StatusCode.DEADLINE_EXCEEDED",
    "StatusCode.RESOURCE_EXHAUSTED",
    "StatusCode.ABORTED",
    "StatusCode.CANCELLED",
}
_NOT_DEPLOYED_HINTS = ("unknown model", "is not found", "no version is available")


class TritonCallFailed(Exception):
    """One failed call; `retryable` says whether another attempt may succeed."""

    def __init__(self, model_name: str, url: str, exc: InferenceServerException) -> None:
        super().__init__(str(exc.message() or exc))
        self.model_name = model_name
        self.url = url
        self.status = str(exc.status() or "")
        self.detail = str(exc.message() or exc)
        self.retryable = not self.not_deployed and self.status in _TRANSIENT

    @property
    def not_deployed(self) -> bool:
        text = self.detail.lower()
        return self.status == "StatusCode.NOT_FOUND" or any(h in text for h in _NOT_DEPLOYED_HINTS)

    @property
    def server_down(self) -> bool:
        text = self.detail.lower()
        return self.status == "StatusCode.UNAVAILABLE" and "connect" in text


@dataclass(frozen=True)
class InferenceFailure:
    """The message a caller sees once retries are exhausted."""

    message: str

    @classmethod
    def from_call(cls, failure: TritonCallFailed) -> InferenceFailure:
        name, url = failure.model_name, failure.url
        if failure.not_deployed:
            return cls(
                f"model {name} is not deployed on Triton at {url}: deploy the embedding model "
                f"(POST /api/v1/internal/inference-deployment/deploy) and retry"
            )
        if failure.server_down:
            return cls(f"the Triton server at {url} is unreachable; retry later ({failure.detail})")
        if failure.status == "StatusCode.DEADLINE_EXCEEDED":
            return cls(f"Triton at {url} did not answer for model {name} in time; retry later")
        return cls(f"Triton at {url} failed to run model {name}: {failure.status} {failure.detail}")

    def error(self) -> InferenceUnavailable:
        return InferenceUnavailable(self.message)
