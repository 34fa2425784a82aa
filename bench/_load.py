"""A small HTTP/1.1 load generator for the benchmarks: N keep-alive connections on one asyncio loop, each sending
GET (or POST) requests back to back for a fixed time, to 127.0.0.1 only. No third-party client: the figures are
the server's, and the client's cost is the same for the baseline and the page measured against it."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_CLIENTS = 200
MAX_SECONDS = 30


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def request_bytes(path: str, *, port: int, method: str = "GET", body: bytes = b"", headers: dict | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _client(port: int, make_request, deadline: float, statuses: dict, latencies: list, observe) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < deadline:
            request = make_request()
            if request is None:
                break
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if observe is not None:
                observe(request, status)
            done += 1
    finally:
        writer.close()
    return done


def load(*, port: int, path: str = "/", clients: int = 50, seconds: float = 4.0, make_request=None,
         observe=None) -> Load:
    """`clients` keep-alive connections requesting `path` (or what `make_request()` returns; None stops that
    client) for `seconds`. `observe(request, status)`, when given, is called after each answer."""
    if not 1 <= clients <= MAX_CLIENTS or not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"clients 1–{MAX_CLIENTS}, seconds up to {MAX_SECONDS}")
    fixed = request_bytes(path, port=port)
    make_request = make_request or (lambda: fixed)
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def run():
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        counts = await asyncio.gather(*(_client(port, make_request, deadline, statuses, latencies, observe) for _ in range(clients)))
        return sum(counts), time.perf_counter() - started

    total, elapsed = asyncio.run(run())
    return Load(total, elapsed, statuses, latencies)


def sequential_ms(*, port: int, path: str, repeat: int = 15) -> float:
    """Median time of `repeat` requests one after another (one connection): what one page costs."""
    result = load(port=port, clients=1, seconds=MAX_SECONDS, make_request=_counted(request_bytes(path, port=port), repeat))
    return result.p50_ms


def _counted(request: bytes, count: int):
    left = [count]

    def make():
        if left[0] <= 0:
            return None
        left[0] -= 1
        return request

    return make


def start_uvicorn(port: int, *, env: dict, workers: int = 2) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--lifespan", "off", "--workers", str(workers)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(port: int, process: subprocess.Popen, path: str = "/api/v1/eip712") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server on port {port} did not start within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
