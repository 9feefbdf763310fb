"""Shared pytest configuration for topicbot's tests."""
