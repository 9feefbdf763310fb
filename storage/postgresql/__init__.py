"""The store on PostgreSQL: connection, schema migrations and (as it grows) the repositories.

Nothing here knows about Discord. Times are Unix seconds in ``bigint`` columns, as on SQLite
(``storage.timestamps``), so rows copy between the engines unchanged.
"""

from storage.postgresql.connection import (
    URL_FORM,
    PostgresConnectError,
    ServerAddress,
    open_pool,
    password_of,
    server_address,
    url_from_environment,
)

__all__ = [
    "URL_FORM",
    "PostgresConnectError",
    "ServerAddress",
    "open_pool",
    "password_of",
    "server_address",
    "url_from_environment",
]
