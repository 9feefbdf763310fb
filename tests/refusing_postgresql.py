"""A stand-in PostgreSQL server that asks for a password and refuses it (the test server
trusts every connection, so it cannot be made to refuse one)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest


class PasswordRefusingServer:
    """Just enough of the PostgreSQL protocol to ask for a password and refuse it (the test
    server trusts every connection, so it cannot be made to refuse one)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.passwords: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                self._refuse(connection)

    def _refuse(self, connection: socket.socket) -> None:
        length, code = struct.unpack("!ii", _read(connection, 8))
        if code == 80877103:  # SSLRequest: no TLS here, then the real start-up message
            connection.sendall(b"N")
            length, code = struct.unpack("!ii", _read(connection, 8))
        _read(connection, length - 8)
        connection.sendall(b"R" + struct.pack("!ii", 8, 3))  # cleartext password, please
        _kind, size = struct.unpack("!ci", _read(connection, 5))
        self.passwords.append(_read(connection, size - 4).rstrip(b"\0"))
        fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "bot"\0\0'
        connection.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    def close(self) -> None:
        self.listener.close()


def _read(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


@pytest.fixture
def refusing_server() -> Iterator[PasswordRefusingServer]:
    server = PasswordRefusingServer()
    yield server
    server.close()
