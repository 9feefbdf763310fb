"""Opening a connection pool on PostgreSQL from a URL, with every way that can fail said in one
line an operator can act on. The URL may hold a password: no message here ever shows the URL,
only the parts of it that are not secret (user, host, port, database)."""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from storage.database import StoreError

# A connection of its own, or one lent by a pool: the store's SQL runs on either.
Connection = asyncpg.Connection | PoolConnectionProxy

SCHEMES = ("postgresql", "postgres")
URL_FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
CONNECT_TIMEOUT_SECONDS = 10.0
# JIT compiles a statement whose estimated cost is high, which the store's batch statements
# (a walk of the title keys per article, arrays of thousands) always are: it spent 140 ms of
# a 500 ms grouping statement compiling. The store's statements are short; none gains by it.
SERVER_SETTINGS = {"jit": "off"}


class PostgresConnectError(StoreError):
    """The PostgreSQL server named by the URL cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """The parts of a connection URL that are not secret, for messages."""

    user: str
    host: str
    port: int
    database: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"


def url_from_environment(
    variable: str, *, wanted_by: str = "storage.backend is postgresql"
) -> tuple[str, str]:
    """The URL the environment variable ``variable`` holds, and where it came from
    (``$VARIABLE``, what messages name instead of the URL); a ``PostgresConnectError`` saying
    that ``wanted_by`` needs it when it is unset."""
    source = f"${variable}"
    url = os.environ.get(variable, "").strip()
    if not url:
        raise PostgresConnectError(
            f"{wanted_by} but {source} is not set (it holds the connection URL, {URL_FORM})"
        )
    return url, source


def server_address(url: str, *, source: str) -> ServerAddress:
    """What ``url`` points at, or a ``PostgresConnectError`` naming ``source`` (where the URL
    came from, such as ``$TOPICBOT_DATABASE_URL``) and what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 5432
    except ValueError:
        raise PostgresConnectError(
            f"{source} is not a PostgreSQL URL: its port is not a number ({URL_FORM})"
        ) from None
    if parts.scheme not in SCHEMES:
        raise PostgresConnectError(
            f"{source} is not a PostgreSQL URL: it must start with postgresql:// ({URL_FORM})"
        )
    return _address_of(parts, port, source)


def _address_of(parts: SplitResult, port: int, source: str) -> ServerAddress:
    host = parts.hostname or ""
    database = unquote(parts.path.lstrip("/"))
    if not host or not database or "/" in database:
        raise PostgresConnectError(f"{source} must name a host and a database ({URL_FORM})")
    return ServerAddress(unquote(parts.username or ""), host, port, database)


def password_of(url: str) -> str:
    """The password the URL holds ('' for none), so that logs can mask it."""
    try:
        return unquote(urlsplit(url.strip()).password or "")
    except ValueError:
        return ""


async def open_pool(url: str, *, size: int, source: str) -> asyncpg.Pool:
    """A pool of at most ``size`` connections, with one connection made and checked, so that
    a wrong URL fails here, at start, and not on the first command."""
    address = server_address(url, source=source)
    try:
        pool = await asyncpg.create_pool(
            url.strip(),
            min_size=1,
            max_size=size,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings=SERVER_SETTINGS,
        )
    except Exception as error:  # asyncpg raises many kinds; each is said in one line
        problem = connect_problem(error, address, source)
        raise PostgresConnectError(_masked(problem, password_of(url))) from None
    return pool


def _masked(text: str, password: str) -> str:
    return text.replace(password, "***") if password else text


def connect_problem(error: BaseException, address: ServerAddress, source: str) -> str:
    """One line naming why a connection to ``address`` failed, without the URL's secrets."""
    where = f"PostgreSQL at {address} ({source})"
    if isinstance(error, asyncpg.InvalidPasswordError):
        return f"{where} refused the password for user {address.user!r}"
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
        return f"{where} refused user {address.user!r}: {error.args[0] if error.args else ''}"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return f"{where}: the database {address.database!r} does not exist"
    if isinstance(error, socket.gaierror):
        return f"cannot reach {where}: unknown host {address.host!r}"
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return f"cannot reach {where}: no answer within {CONNECT_TIMEOUT_SECONDS:g} s"
    if isinstance(error, ConnectionRefusedError):
        return f"cannot reach {where}: connection refused (is the server running there?)"
    if isinstance(error, OSError):
        return f"cannot reach {where}: {error.strerror or 'connection failed'}"
    if isinstance(error, asyncpg.PostgresError):
        return f"{where} refused the connection: {error.args[0] if error.args else error}"
    # Anything else (a bad option in the URL...); the caller masks the password, should the
    # text quote it.
    return f"cannot connect to {where}: {error}"
