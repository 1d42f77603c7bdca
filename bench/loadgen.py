"""A small closed-loop HTTP/1.1 load generator for the web benchmark (bench/web.py).

It runs in its own process, beside the server on the same cores, so it is kept
cheap: one asyncio loop, hand-written HTTP/1.1 over asyncio streams, requests
prepared in advance as raw bytes. Each of `concurrency` clients sends one request,
reads the whole response, and sends the next: the concurrency is the number of
requests in flight. Connections are kept open when the server allows it and opened
anew after `Connection: close` (gunicorn's sync workers close after every response),
so a request's latency includes its connect when the server closes.

Input, a JSON object on stdin: {"host", "port", "concurrency", "warmup", "duration",
"requests": [raw request as a latin-1 string, ...]}; the clients take the requests in
turn, round-robin. Output, a JSON object on stdout: requests completed inside the
measured window (after the warm-up), their latencies in ms (sorted), status counts,
errors by kind, retries by kind and a few sample failures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from typing import Any

SAMPLES = 5  # failures kept verbatim (status line and the start of the body)
# A connection the server closed under a request (a kept-alive one it timed out, or any
# one accepted by a worker that gunicorn's max_requests was recycling) is opened again
# and the request resent, as browsers do; counted as a retry, an error only after this
# many attempts.
ATTEMPTS = 3


class Failure(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, whether the connection stays open, body) of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers from gunicorn
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(parts)
    elif int(status) in (204, 304):
        body = b""
    else:
        body = await reader.read()
        keep = False
    return int(status), keep, body


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    requests = [raw.encode("latin-1") for raw in spec["requests"]]
    turn = itertools.cycle(range(len(requests)))
    loop = asyncio.get_running_loop()
    begin = loop.time()
    measure_from = begin + float(spec["warmup"])
    measure_to = measure_from + float(spec["duration"])
    samples: list[tuple[float, float, int]] = []  # (start, end, status); -1: failed
    errors: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    failures: list[str] = []

    async def client() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while True:
            started = time.perf_counter()
            if loop.time() >= measure_to:
                break
            request = requests[next(turn)]
            status = -1
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    writer.write(request)
                    status, keep, body = await read_response(reader)
                    if not 200 <= status < 300 and len(failures) < SAMPLES:
                        failures.append(
                            f"{status} {request.split(b' ', 2)[1].decode()}: {body[:300]!r}"
                        )
                    if not keep:
                        writer.close()
                        reader = writer = None
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    if attempt == ATTEMPTS:
                        errors[type(exc).__name__] += 1
                        if len(failures) < SAMPLES:
                            failures.append(f"{type(exc).__name__}: {exc}")
                        break
                    retries[type(exc).__name__] += 1
            ended = time.perf_counter()
            samples.append((started, ended, status))
        if writer is not None:
            writer.close()

    offset = time.perf_counter() - loop.time()  # perf_counter and loop.time() share no origin
    await asyncio.gather(*(client() for _ in range(int(spec["concurrency"]))))
    window = (measure_from + offset, measure_to + offset)
    inside = [s for s in samples if s[0] >= window[0] and s[1] <= window[1]]
    statuses = Counter(str(status) for _, _, status in inside)
    return {
        "count": len(inside),
        "seconds": window[1] - window[0],
        "latencies_ms": sorted((end - start) * 1000 for start, end, _ in inside),
        "statuses": dict(statuses),
        "non_2xx": sum(n for status, n in statuses.items() if not status.startswith("2")),
        "errors": dict(errors),
        "retries": dict(retries),
        "failures": failures,
        "total": len(samples),
    }


def main() -> None:
    spec = json.load(sys.stdin)
    result = asyncio.run(run(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
