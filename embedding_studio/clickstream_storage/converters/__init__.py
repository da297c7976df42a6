"""Converters from stored clickstream sessions to fine-tuning inputs."""
