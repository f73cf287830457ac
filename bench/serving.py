"""HTTP bridge benchmark: `python -m bench.serving [--logins N] [--pages N] [--rounds R]`.

Plain HTTP reaches Django inside the ASGI server through one of two bridges
(`provplattform.sync_http`, setting WEB_HTTP_BRIDGE): "threadpool", the bridge kept in the
project, and "a2wsgi", the maintained library's WSGIMiddleware. Both serve the same database of
N students (bench.login's set-up) under uvicorn with 2 workers. Each round runs, per bridge, the
login burst of bench.login and a page load: N GETs of the status page (which reads the database),
each on a fresh connection, at most C in flight. The bridges alternate within every round, so
other load on the machine falls on both. The last line is one JSON object; `*_ratio` is a2wsgi
over threadpool (above 1 means a2wsgi is slower or costlier).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench import common
from bench.login import _exchange, measure, prepare

BRIDGES = ("threadpool", "a2wsgi")


async def _one_page(port: int, path: str) -> float | None:
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        status, _headers, _body = await _exchange(
            reader, writer, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        )
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return None
    finally:
        writer.close()
    return time.perf_counter() - started if status == 200 else None


async def _pages(port: int, count: int, connections: int, path: str):
    slots = asyncio.Semaphore(connections)

    async def one() -> float | None:
        async with slots:
            return await _one_page(port, path)

    started = time.monotonic()
    results = await asyncio.gather(*(one() for _ in range(count)))
    return results, time.monotonic() - started


def page_load(env: dict[str, str], count: int, connections: int, path: str = "/status/") -> dict:
    with common.running(
        common.start_uvicorn(env=env, workers=2, health_path=path, name="pages")
    ) as server:
        results, seconds = asyncio.run(_pages(server.port, count, connections, path))
    ok = [r for r in results if r is not None]
    return {
        "pages": len(ok),
        "failed": len(results) - len(ok),
        "pages_per_s": round(len(ok) / seconds, 1),
        "p99_ms": round(common.percentile(ok, 99) * 1000, 1) if ok else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    env, accounts = prepare(args.logins)
    runs: dict[str, list[dict]] = {bridge: [] for bridge in BRIDGES}
    for _ in range(args.rounds):
        for bridge in BRIDGES:
            bridge_env = {**env, "WEB_HTTP_BRIDGE": bridge}
            login = measure(bridge_env, accounts, args.connections)
            pages = page_load(bridge_env, args.pages, args.connections)
            runs[bridge].append({"login": login, "pages": pages})

    def median(bridge: str, part: str, key: str) -> float:
        return statistics.median(run[part][key] for run in runs[bridge])

    result: dict = {"logins": args.logins, "pages": args.pages, "rounds": args.rounds}
    for bridge in BRIDGES:
        result[bridge] = {
            "logins_per_s": median(bridge, "login", "logins_per_s"),
            "login_p99_ms": round(median(bridge, "login", "p99_ms")),
            "server_cpu_ms_per_login": median(bridge, "login", "server_cpu_ms_per_login"),
            "login_failed": sum(run["login"]["failed"] for run in runs[bridge]),
            "pages_per_s": median(bridge, "pages", "pages_per_s"),
            "page_p99_ms": round(median(bridge, "pages", "p99_ms")),
            "page_failed": sum(run["pages"]["failed"] for run in runs[bridge]),
        }
    base, other = result["threadpool"], result["a2wsgi"]
    result["login_cpu_ratio"] = round(
        other["server_cpu_ms_per_login"] / base["server_cpu_ms_per_login"], 2
    )
    result["login_throughput_ratio"] = round(base["logins_per_s"] / other["logins_per_s"], 2)
    result["page_throughput_ratio"] = round(base["pages_per_s"] / other["pages_per_s"], 2)
    common.emit(result)


if __name__ == "__main__":
    main()
