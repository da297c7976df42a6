"""Per-user vector adjustment from search feedback (the improvement system)."""
