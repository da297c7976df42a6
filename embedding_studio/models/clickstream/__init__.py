"""Clickstream domain models: sessions, their events, and the batches they accumulate in."""
