"""topicbot: topic alerts for Discord from a curated, quality-scored news store."""

__version__ = "0.1.0"
