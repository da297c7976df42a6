"""Errors raised on purpose. The API maps each kind to an HTTP status in `main.py`."""


class EmbeddingStudioError(Exception):
    """Base of every error we raise on purpose."""


class NotFound(EmbeddingStudioError):
    """A thing the caller named does not exist."""


class Conflict(EmbeddingStudioError):
    """The request collides with the current state (a lock is held, a task is running)."""


class InvalidRequest(EmbeddingStudioError):
    """A client value we cannot use; the message says what to change."""


class TaskRefused(EmbeddingStudioError):
    """A worker will not run this task; it is never retried."""


class TaskCanceled(EmbeddingStudioError):
    """The task was canceled while it ran; the worker stops at its checkpoint."""


class StorageUnavailable(EmbeddingStudioError):
    """A server is unreachable or failed; worth a retry."""


class DuplicateKey(EmbeddingStudioError):
    """A document with the same id or unique key already exists."""


class PluginError(EmbeddingStudioError):
    """A plugin file or class could not be loaded."""


class InferenceUnavailable(StorageUnavailable):
    """The inference server cannot embed right now."""
