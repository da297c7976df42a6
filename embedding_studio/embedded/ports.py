"""Port checks before anything starts: a taken port is reported with the setting that
chose it and, when it can be found, the process that holds it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psutil

from embedding_studio.embedded.services import port_is_free


@dataclass(frozen=True)
class PortClaim:
    """A port the stack is about to listen on, and the setting that chose it."""

    service: str
    port: int
    setting: str
    host: str = "127.0.0.1"


class PortTaken(RuntimeError):
    """One or more ports the stack needs are in use; the message names each one."""


def port_owner(port: int) -> str | None:
    """'pid 123 (valkey-server)' for the process listening on `port`, when visible."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    for conn in connections:
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            if conn.pid is None:
                return "another process"
            try:
                name = psutil.Process(conn.pid).name()
            except psutil.Error:
                name = "?"
            return f"pid {conn.pid} ({name})"
    return None


def check_ports(claims: Iterable[PortClaim]) -> None:
    """Raise PortTaken naming every claimed port that cannot be bound, and what holds it."""
    problems = []
    seen: dict[int, PortClaim] = {}
    for claim in claims:
        if claim.port in seen:
            other = seen[claim.port]
            problems.append(
                f"{claim.service} and {other.service} both want port {claim.port}: "
                f"change {claim.setting} or {other.setting}"
            )
            continue
        seen[claim.port] = claim
        if not port_is_free(claim.port, claim.host):
            owner = port_owner(claim.port)
            held_by = f", held by {owner}" if owner else ""
            problems.append(
                f"{claim.service} port {claim.port} on {claim.host} is taken{held_by}: "
                f"free it or set {claim.setting} to another port"
            )
    if problems:
        raise PortTaken("; ".join(problems))
