"""topicbot's storage layer: SQL, schema migrations and the async store API.

Nothing in this package knows about Discord; it returns plain data classes.
"""

from storage.database import StoreError
from storage.store import Store

__all__ = ["Store", "StoreError"]
