"""One stack's ports are chosen together, so its services never share one."""

from __future__ import annotations

import socket

from costguard_cli.procs import free_port, free_ports


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(64)
    assert len(set(ports)) == 64
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[0]))
    assert 0 < free_port() < 65536
