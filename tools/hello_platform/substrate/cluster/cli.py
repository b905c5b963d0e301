"""``hello-platform cluster up|down|status|kubeconfig|logs [COMPONENT]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.substrate import registry
from hello_platform.substrate.cluster import node
from hello_platform.substrate.cluster.components import COMPONENTS
from hello_platform.substrate.cluster.layout import Layout

LOG_NAMES = ("registry", *(c.name for c in COMPONENTS))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="the local single-node Kubernetes cluster",
        description="Run a single-node upstream Kubernetes on this machine (Linux, root).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("up", help="start the cluster, or repair it (idempotent)").set_defaults(func=_up)
    p_down = sub.add_parser("down", help="stop the cluster and clean up the host")
    p_down.add_argument(
        "--purge",
        action="store_true",
        help="also delete its data (etcd, images in containerd, certificates)",
    )
    p_down.set_defaults(func=_down)
    sub.add_parser("status", help="health of every component").set_defaults(func=_status)
    sub.add_parser("kubeconfig", help="print the admin kubeconfig path").set_defaults(
        func=_kubeconfig
    )
    sub.add_parser(
        "registry-login",
        help="start the local registry that needs a login (127.0.0.1:5443, TLS from the "
        "cluster CA) and print how to push to it",
    ).set_defaults(func=_registry_login)
    p_logs = sub.add_parser("logs", help="list the logs, or show one component's log")
    p_logs.add_argument("component", nargs="?", choices=LOG_NAMES)
    p_logs.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    p_logs.set_defaults(func=_logs)


def _up(args: argparse.Namespace) -> int:
    print(node.up())
    return 0


def _down(args: argparse.Namespace) -> int:
    node.down(purge=args.purge)
    return 0


def format_status(rows: list[node.Row]) -> str:
    width = max(len(r.name) for r in rows)
    lines = []
    for r in rows:
        pid = str(r.pid) if r.pid else "-"
        lines.append(f"{r.name:<{width}}  {'ok  ' if r.ok else 'FAIL'}  {pid:>7}  {r.detail}")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    rows = node.status()
    print(format_status(rows))
    healthy = all(r.ok for r in rows)
    others = node.addon_rows(Layout.default(), node_addons=False) if healthy else []
    if others:  # reported, but the cluster's health does not depend on them
        print("add-ons installed on the cluster:")
        print(format_status(others))
    mem = node.memory()
    if mem:
        parts = ", ".join(f"{name} {rss / 2**20:.0f}" for name, rss in mem.items())
        print(f"memory (RSS, MiB): {sum(mem.values()) / 2**20:.0f} in all: {parts}")
    return 0 if healthy else 1


def _kubeconfig(args: argparse.Namespace) -> int:
    path = Layout.default().admin_kubeconfig
    if not path.exists():
        raise PlatformError("the cluster has no kubeconfig yet", hint="run: nox -s cluster -- up")
    print(path)
    return 0


def _registry_login(args: argparse.Namespace) -> int:
    found = registry.ensure_auth_running()
    print(f"registry: {found.address}  user: {found.username}  CA: {found.ca}")
    print(f"password: {found.password_file} (readable by root only)")
    print(
        f"try: HELLO_PLATFORM_REGISTRY_PASSWORD=$(cat {found.password_file}) nox -s deploy -- "
        f"--registry {found.address} --registry-ca {found.ca} --registry-username {found.username}"
    )
    return 0


def _log_path(name: str) -> Any:
    return registry.daemon().log if name == "registry" else Layout.default().log(name)


def _logs(args: argparse.Namespace) -> int:
    if args.component is None:
        for name in LOG_NAMES:
            path = _log_path(name)
            size = f"{path.stat().st_size / 1024:.0f} KiB" if path.exists() else "no log yet"
            print(f"{name:<24} {path} ({size})")
        return 0
    path = _log_path(args.component)
    if not path.exists():
        raise PlatformError(f"{args.component} has no log yet at {path}")
    with path.open("rb") as fh:
        tail = fh.readlines()[-args.lines :]
    sys.stdout.write(b"".join(tail).decode(errors="replace"))
    return 0
