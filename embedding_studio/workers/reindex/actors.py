"""`dramatiq embedding_studio.workers.reindex.actors -Q reindex_worker reindex_subworker`

The process runs now so the embedded stack and compose start every worker; its task
handlers are declared here as their issues land."""

from __future__ import annotations

from embedding_studio.core.logging import configure_logging
from embedding_studio.workers.broker import get_broker

configure_logging()
broker = get_broker()
