"""Sustained clickstream ingestion through the REST API.

    python -m benchmarks.clickstream_ingestion [--api-url URL] [--clients 16]
        [--target-events-per-s 2000] [--duration-s 20] [--events-per-request 20]

Concurrent clients (one process each, as separate front ends would be, with one keep-alive
HTTP connection each) register sessions, then push batches of events for `--duration-s`
seconds, paced so that together they offer `--target-events-per-s` (0: back to back, to
find the peak). A small share of pushes are retries of an acknowledged batch (their events
must not be stored twice) and a few events name objects the session did not show.
Afterwards every session is read back and the stored events are compared with what the
server acknowledged: the run fails (exit 1) on any lost or duplicated event or any error.
Prints the achieved events/s and the request latency percentiles as JSON, with the
machine's load average (the timing figures are reported, not asserted).

Without --api-url it starts its own server: an embedded PostgreSQL (pgserver) and
`uvicorn embedding_studio.main:app` with no plugins (`--api-workers` processes), in a
temporary folder.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from embedding_studio.embedded import services

EVENTS_PATH = "/api/v1/clickstream/session/events"
SESSION_PATH = "/api/v1/clickstream/session"
CLIENT_START_S = 10.0  # time for the client processes to start before the load begins


def tree_cpu_s(root: int) -> float | None:
    """CPU seconds used by a process and its descendants (Linux /proc), or None."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = sum(int(v) for v in fields[11:15])  # own and waited-for children time
        stats[int(entry.parent.name)] = (int(fields[1]), ticks / os.sysconf("SC_CLK_TCK"))
    if root not in stats:
        return None
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in stats.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[pid][1] for pid in tree)


@contextmanager
def own_server(workers: int, timeout_s: float = 120) -> Iterator[tuple[str, dict[str, int]]]:
    """An embedded PostgreSQL and a uvicorn API over it, stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="es-clickstream-bench-"))
    postgres = services.start_postgres(folder / "pg")
    port = services.free_port()
    env = {
        **os.environ,
        "POSTGRES_URL": postgres.url,
        "INFERENCE_USED_PLUGINS": "[]",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("ADMIN_API_KEY", None)
    env.pop("DOCUMENT_STORE_URL", None)
    log = open(folder / "api.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "embedding_studio.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning",
         "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited; see {folder / 'api.log'}")
            try:
                if httpx.get(f"{url}/api/v1/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API did not start in {timeout_s} s; see {folder}")
            time.sleep(0.3)
        postmaster = int((folder / "pg" / "postmaster.pid").read_text().split()[0])
        yield url, {"api": process.pid, "postgres": postmaster}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
        postgres.stop()


@dataclass
class ClientTally:
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    ended: float = 0.0  # wall-clock time of the last response


def _session_body(session_id: str) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "search_query": f"benchmark query {session_id}",
        "search_results": [{"object_id": f"obj{i}", "rank": i} for i in range(20)],
        "user_id": "bench-user",
    }


@dataclass(frozen=True)
class Load:
    """What each client sends: `interval_s` between requests (0: back to back), from
    `starts` until `until` (wall-clock seconds, shared by the client processes)."""

    events_per_request: int
    retry_share: float
    outside_share: float
    interval_s: float
    starts: float
    until: float


def _new_batch(number: int, sequence: int, session_id: str, load: Load, rng: random.Random) -> dict:
    return {
        "session_id": session_id,
        "events": [
            {
                "event_id": f"c{number}-{sequence}-{i}",
                # Mostly clicks on shown results; a few on other widgets.
                "object_id": f"obj{rng.randrange(20)}"
                if rng.random() > load.outside_share
                else "banner",
                "event_type": rng.choice(("click", "view")),
            }
            for i in range(load.events_per_request)
        ],
    }


def run_client(url: str, number: int, sessions: list[str], load: Load) -> ClientTally:
    tally = ClientTally()
    rng = random.Random(number)
    sent_batches: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        time.sleep(max(0.0, load.starts - time.time()))
        began = time.time() + rng.random() * load.interval_s  # spread the clients
        sequence = 0
        while (now := time.time()) < load.until:
            if load.interval_s:
                due = began + len(tally.latencies_ms) * load.interval_s
                if due > now:
                    time.sleep(due - now)
            if sent_batches and rng.random() < load.retry_share:
                body = rng.choice(sent_batches)  # a client retrying an acknowledged batch
            else:
                body = _new_batch(number, sequence, sessions[sequence % len(sessions)], load, rng)
                sequence += 1
            started = time.perf_counter()
            response = http.post(EVENTS_PATH, json=body)
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                tally.errors.append(f"{response.status_code} {response.text[:200]}")
                continue
            result = response.json()
            tally.sent += len(body["events"])
            tally.acknowledged += result["stored"]
            tally.duplicates += result["duplicates"]
            if len(sent_batches) < 50:
                sent_batches.append(body)
    tally.ended = time.time()
    return tally


def tallies_latencies(tallies: list[ClientTally]) -> list[float]:
    return [ms for t in tallies for ms in t.latencies_ms]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def stored_events(url: str, sessions: list[str]) -> int:
    with httpx.Client(base_url=url, timeout=60) as http:
        return sum(
            len(http.get(SESSION_PATH, params={"session_id": s}).json()["events"]) for s in sessions
        )


def run(url: str, args: argparse.Namespace, pids: dict[str, int] | None = None) -> dict[str, Any]:
    run_id = f"bench{int(time.time())}"
    per_client = [
        [f"{run_id}-c{c}-s{s}" for s in range(args.sessions_per_client)]
        for c in range(args.clients)
    ]
    with httpx.Client(base_url=url, timeout=30) as http:
        for session_id in (s for sessions in per_client for s in sessions):
            http.post(SESSION_PATH, json=_session_body(session_id)).raise_for_status()

    load_before = os.getloadavg()[0]
    cpu_before = {name: tree_cpu_s(pid) for name, pid in (pids or {}).items()}
    requests_per_s = args.target_events_per_s / args.events_per_request
    load = Load(
        events_per_request=args.events_per_request,
        retry_share=args.retry_share,
        outside_share=args.outside_share,
        interval_s=args.clients / requests_per_s if args.target_events_per_s else 0.0,
        starts=time.time() + CLIENT_START_S,
        until=time.time() + CLIENT_START_S + args.duration_s,
    )
    # One process per client: threads of one process would wait for each other's GIL,
    # and that wait would be measured as the server's latency.
    with ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(run_client, url, c, per_client[c], load) for c in range(args.clients)
        ]
        tallies = [future.result() for future in futures]
    elapsed = max(t.ended for t in tallies) - load.starts

    load_after = os.getloadavg()[0]
    cpu_ms_per_request = {
        name: round((after - before) * 1000 / max(1, len(tallies_latencies(tallies))), 2)
        for name, pid in (pids or {}).items()
        if (before := cpu_before[name]) is not None and (after := tree_cpu_s(pid)) is not None
    }
    latencies = tallies_latencies(tallies)
    acknowledged = sum(t.acknowledged for t in tallies)
    stored = stored_events(url, [s for sessions in per_client for s in sessions])
    return {
        "clients": args.clients,
        "api_workers": args.api_workers if not args.api_url else None,
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "cpus": os.cpu_count(),
        "events_per_request": args.events_per_request,
        "target_events_per_s": args.target_events_per_s or "as fast as possible",
        "duration_s": round(elapsed, 1),
        "requests": len(latencies),
        "events_sent": sum(t.sent for t in tallies),
        "events_acknowledged_new": acknowledged,
        "events_acknowledged_duplicate": sum(t.duplicates for t in tallies),
        "events_stored": stored,
        "lost_or_duplicated": stored - acknowledged,
        "errors": sum(len(t.errors) for t in tallies),
        "first_errors": [e for t in tallies for e in t.errors][:3],
        "events_per_s": round(sum(t.sent for t in tallies) / elapsed, 1),
        "new_events_per_s": round(acknowledged / elapsed, 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "server_cpu_ms_per_request": cpu_ms_per_request or None,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies, default=0.0), 1),
        },
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", help="an API to measure; default: start one here")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--target-events-per-s",
        type=float,
        default=2000.0,
        help="paced load across all clients; 0 sends back to back (peak throughput)",
    )
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--events-per-request", type=int, default=20)
    parser.add_argument("--sessions-per-client", type=int, default=10)
    parser.add_argument("--retry-share", type=float, default=0.02, help="pushes that are retries")
    parser.add_argument(
        "--outside-share", type=float, default=0.02, help="events on objects not shown"
    )
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn workers (own server)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.api_url:
        figures = run(args.api_url, args)
    else:
        with own_server(args.api_workers) as (url, pids):
            figures = run(url, args, pids)
    print(json.dumps(figures, indent=2))  # noqa: T201 - the script's output
    ok = figures["lost_or_duplicated"] == 0 and figures["errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
