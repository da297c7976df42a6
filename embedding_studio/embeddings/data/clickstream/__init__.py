"""Clickstream data as the learning code sees it (inputs for improvement and fine-tuning)."""
