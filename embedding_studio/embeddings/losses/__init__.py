"""Ranking losses for fine-tuning embedding models on clickstream sessions.

Every loss takes one `SessionFeatures` (what a batch of sessions says about the model's
ranks) and returns a scalar tensor to minimise. One loss per module.
"""
