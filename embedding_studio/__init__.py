"""Embedding Studio: an embedding model and a vector database as a self-improving search
service."""

import os

# MLflow 3 sends usage telemetry from a background thread by default; besides reporting
# to a third party, that thread races with interpreter shutdown (KeyError in its atexit
# hook). A deployment that wants it sets MLFLOW_DISABLE_TELEMETRY=false explicitly.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
