"""A lean HTTP/1.1 client for benchmarks: many keep-alive connections driven by one asyncio loop.

A general-purpose client spends more CPU per request than the server under test does (httpx's
pool costs 4-5 ms a request at 64 connections on this machine), and on a two-core machine that
CPU is taken from the server. This one writes each request with one `write` and reads the answer
by its Content-Length: about a tenth of a millisecond a request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field

ATTEMPTS = 5


class ResponseError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status


@dataclass
class Connection:
    """One keep-alive connection; requests go one at a time, each answer is read whole."""

    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request (Authorization)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{k}: {v}\r\n" for k, v in {**self.headers, **headers}.items())
        return await self._exchange(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )

    async def get(self, path: str) -> tuple[int, bytes]:
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        return await self._exchange(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}\r\n".encode())

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(request)
        status_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                self.close()
        return int(status_line.split(" ", 2)[1]), await reader.readexactly(length)


async def post_until_answered(connection: Connection, path: str, payload: dict[str, object], key: str) -> bytes:
    """Posts a command; a dropped connection is reopened and the command resent with the same
    Idempotency-Key, so nothing runs twice. A non-2xx answer raises ResponseError."""
    body = json.dumps(payload).encode()
    for attempt in range(ATTEMPTS):
        try:
            status, answer = await connection.post(path, body, {"Idempotency-Key": key})
            break
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.close()
            if attempt == ATTEMPTS - 1:
                raise
    if not 200 <= status < 300:
        raise ResponseError(status, answer)
    return answer


async def run_clients(
    host: str,
    port: int,
    clients: int,
    requests: Callable[[int], list[tuple[str, dict[str, object], str]]],
    headers: dict[str, str] | None = None,
) -> float:
    """Runs `clients` connections at once, each sending its own requests (path, JSON body,
    Idempotency-Key) one after another, with `headers` (credentials); returns the seconds until
    the last answer."""
    loop = asyncio.get_running_loop()

    async def one_client(n: int) -> None:
        connection = Connection(host, port, headers or {})
        try:
            for path, payload, key in requests(n):
                await post_until_answered(connection, path, payload, key)
        finally:
            connection.close()

    started = loop.time()
    await asyncio.gather(*(one_client(n) for n in range(clients)))
    return loop.time() - started
