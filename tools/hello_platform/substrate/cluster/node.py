"""Bring the single-node cluster up (idempotent: what is dead is started again), take it
down (everything it put on the host; data only with ``purge``), report its status."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import shutil
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.substrate import addons as seam
from hello_platform.substrate import daemons, process, registry
from hello_platform.substrate.cluster import (
    addons,
    binaries,
    cgroups,
    config,
    health,
    hostnet,
    images,
    layout,
    leftovers,
    pki,
)
from hello_platform.substrate.cluster.components import (
    COMPONENTS,
    TOTAL,
    Component,
    by_name,
    scaled,
    start_component,
    wait_for,
    wait_started,
)
from hello_platform.substrate.cluster.layout import Layout
from hello_platform.toolchain.apt import ensure_debian_packages, require_linux_root

ALTERNATIVE = "point the sessions at an existing cluster with --kubeconfig PATH instead"


@dataclass(frozen=True)
class Row:
    name: str
    ok: bool
    pid: int | None
    detail: str


def prepare(lay: Layout) -> set[str]:
    """The host, certificates and configs but containerd's; return the components changed."""
    require_linux_root("the local Kubernetes cluster", alternative=ALTERNATIVE)
    ensure_debian_packages(binaries.DEBIAN_PACKAGES, why="the local Kubernetes node")
    state = lay.host_state
    refuse_foreign_kube_proxy(state)
    failed = hostnet.apply_sysctls(state)
    if failed:
        raise PlatformError(
            f"could not set the sysctls {', '.join(failed)}",
            hint="load br_netfilter (modprobe br_netfilter) and run again",
        )
    hostnet.ensure_bridge()
    hostnet.ensure_firewall()
    cgroups.prepare(state)
    hostnet.update_host_state(state, "kube_chains", True)
    for d in (lay.etc, lay.logs, lay.pids, lay.cni_conf_dir, lay.cni_ipam_dir, lay.pod_logs):
        d.mkdir(parents=True, exist_ok=True)
    issued = pki.ensure_pki(lay.pki)
    if issued:
        say(f"issued certificates: {', '.join(issued)}")
    loopback = f"https://127.0.0.1:{layout.API_PORT}"
    config.write(lay.admin_kubeconfig, config.kubeconfig(lay, "admin", server=loopback), 0o600)
    changed = set()
    for comp, name, cert in (
        ("kube-controller-manager", "controller-manager", "controller-manager"),
        ("kube-scheduler", "scheduler", "scheduler"),
        ("kube-proxy", "kube-proxy", "kube-proxy"),
        ("kubelet", "kubelet", "kubelet-client"),
    ):
        if config.write(lay.kubeconfig(name), config.kubeconfig(lay, cert), 0o600):
            changed.add(comp)
    if config.write(lay.etc / "authentication.json", config.authentication_config()):
        changed.add("kube-apiserver")
    if config.write(lay.etc / "kubelet.json", config.kubelet_config(lay)):
        changed.add("kubelet")
    if config.write(lay.etc / "kube-proxy.json", config.kube_proxy_config(lay)):
        changed.add("kube-proxy")
    config.write(lay.cni_conf_dir / "10-hello-platform.conflist", config.cni_conflist(lay))
    hosts = lay.registry_hosts_dir / registry.ADDRESS / "hosts.toml"
    config.write(hosts, config.registry_hosts_toml(registry.ADDRESS))
    if issued:
        # Restart whatever reads them from files: nothing keeps serving an expiring one.
        changed |= {c.name for c in COMPONENTS if c.name != "containerd"}
    return changed


def refuse_foreign_kube_proxy(state: Path) -> None:
    """Stop if another kube-proxy owns this host's KUBE-* chains: two rewrite each other's
    rules, and ``down`` could not tell theirs from ours."""
    if hostnet.kube_chains_ours(state):
        return
    found = hostnet.chains_present(["KUBE-PROXY-CANARY", "KUBE-SERVICES", "KUBE-KUBELET-CANARY"])
    if found:
        raise PlatformError(
            f"another Kubernetes on this host owns the iptables chains {', '.join(found)} "
            "(k3s, or a kubelet/kube-proxy of its own), and a second node here would corrupt "
            "its rules",
            hint=ALTERNATIVE,
        )


def _build_addon_images() -> Future[dict[str, str]]:
    """The add-on images' refs, built in a daemon thread (``result()`` re-raises its error)."""
    future: Future[dict[str, str]] = Future()

    def build() -> None:
        try:
            specs = [spec for addon in addons.NODE_ADDONS for spec in addon.images]
            future.set_result({spec.name: images.ensure_image(spec) for spec in specs})
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=build, name="cluster-images", daemon=True).start()
    return future


def _exclusive(lay: Layout) -> contextlib.AbstractContextManager[None]:
    """One ``up``/``down`` at a time (say, deploy and e2e started together)."""
    return process.exclusive(
        lay.root / ".lock", waiting="another `cluster up/down` is running; waiting for it"
    )


def up(lay: Layout | None = None) -> Path:
    lay = lay or Layout.default()
    with _exclusive(lay):
        return _up(lay)


def _up(lay: Layout) -> Path:
    t0 = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    builder = _configure(lay)
    started = _start_all(lay)
    step, slowest = _wait_healthy(lay)

    # A kubelet started just now must confirm Ready itself: etcd may hold an old Ready.
    fresh_since = started_at if "kubelet" in started else None
    wait_for(
        "node",
        functools.partial(health.node, lay, fresh_since),
        timeout=scaled(90, slowest),
        step=step,
        log=lay.log("kubelet"),
    )
    say(f"node Ready {time.monotonic() - t0:.1f}s after start")
    cgroups.note_runtime_controllers(lay.host_state)
    forgotten = leftovers.forget_unanswered_node_port_flows()
    if forgotten:
        say(f"forgot {forgotten} NodePort connection attempts that were never answered (conntrack)")
    for name in daemons.restart_bound():  # e.g. the GitOps git daemon, on the node IP
        say(f"started {name} again (it listens on the node IP)")

    step += 1
    install_addons(lay, builder.result(), fresh_since, step)
    say(f"cluster up in {time.monotonic() - t0:.1f}s; kubeconfig: {lay.admin_kubeconfig}")
    return lay.admin_kubeconfig


def _configure(lay: Layout) -> Future[dict[str, str]]:
    """Step 1: host, binaries, registry, configs (a component whose config changed is
    stopped); return the builder of the add-on images, started meanwhile."""
    changed = prepare(lay)
    binaries.provision()
    leftovers.stop_strays(lay)  # a daemon started twice by an earlier run: it holds a port
    say(f"[1/{TOTAL}] registry: {registry.ensure_running()}")
    pause_ref = images.ensure_image(images.PAUSE)
    builder = _build_addon_images()
    containerd_toml = config.containerd_config(lay, sandbox_image=pause_ref)
    if config.write(lay.etc / "containerd.toml", containerd_toml):
        changed.add("containerd")
    for name in sorted(changed):
        comp = by_name(name)
        if process.stop(comp.pidfile(lay), timeout=comp.stop_timeout, sig=comp.stop_signal):
            say(f"restarting {name}: its config changed")
    return builder


def _start_all(lay: Layout) -> dict[str, int]:
    """Start what does not run (most once containerd answers); return the pids started."""
    started: dict[str, int] = {}
    first = ("etcd", "containerd", "kube-apiserver")
    for name in first:
        pid = start_component(lay, by_name(name))
        if pid:
            started[name] = pid
    containerd = by_name("containerd")
    wait_for(
        "containerd",
        functools.partial(containerd.health, lay),
        timeout=containerd.timeout,
        step=2 + COMPONENTS.index(containerd),
        log=lay.log("containerd"),
    )
    for comp in COMPONENTS:
        if comp.name not in first:
            pid = start_component(lay, comp)
            if pid:
                started[comp.name] = pid
    if started:
        say(f"started {', '.join(started)}")
    return started


def _wait_healthy(lay: Layout) -> tuple[int, float]:
    """Wait for every component in turn; return the last step and the slowest wait."""
    step, slowest = 1, 0.0
    for comp in COMPONENTS:
        step += 1
        waited = wait_started(lay, comp, step, slowest=slowest)
        slowest = max(slowest, waited)
        say(f"[{step}/{TOTAL}] {comp.name}: healthy ({waited:.1f}s)")
    return step, slowest


def install_addons(lay: Layout, refs: dict[str, str], since: dt.datetime | None, step: int) -> None:
    """Apply the node's glue and add-ons and wait until they are ready (since ``since``)."""
    kube = Kube(lay.admin_kubeconfig, timeout=120)
    kube.apply_yaml(addons.render({}, pattern=addons.GLUE))
    for addon in addons.NODE_ADDONS:
        seam.install(kube, addon, refs)
    for addon in addons.NODE_ADDONS:
        waited = seam.wait_ready(kube, addon, since=since)
        say(f"[{step}/{TOTAL}] {addon.name}: Ready ({waited:.1f}s)")


def is_up(lay: Layout) -> bool:
    for comp in COMPONENTS:
        if process.running(comp.pidfile(lay)) is None or not comp.health(lay).ok:
            return False
    return registry.ours_healthy() and health.node(lay).ok


def status(lay: Layout | None = None) -> list[Row]:
    lay = lay or Layout.default()
    rows = [
        Row(
            "registry",
            registry.ours_healthy(),
            process.running(registry.pidfile()),
            f"http://{registry.ADDRESS}/v2/",
        )
    ]
    for comp in COMPONENTS:
        pid = process.running(comp.pidfile(lay))
        h = comp.health(lay) if pid is not None else health.Health(False, "not running")
        rows.append(Row(comp.name, h.ok, pid, h.detail))
    n = health.node(lay)
    rows.append(Row("node", n.ok, None, n.detail))
    rows += addon_rows(lay)
    return rows


def addon_rows(lay: Layout, *, node_addons: bool = True) -> list[Row]:
    """Rows of the node's add-ons (``node_addons=False``: of every other installed one)."""
    node_names = [a.name for a in addons.NODE_ADDONS]
    try:
        kube = health.admin(lay)
        if node_addons:
            found = [r for a in addons.NODE_ADDONS for r in seam.status(kube, a)]
        else:
            found = seam.status_of_installed(kube, skip=node_names)
    except PlatformError as err:
        names = node_names if node_addons else ["add-ons"]
        return [Row(name, False, None, f"API not reachable ({err.message})") for name in names]
    return [Row(_row_name(r), r.ok, None, r.detail) for r in found]


def _row_name(row: seam.Row) -> str:
    return row.addon if row.part == row.addon else f"{row.addon} {row.part}"


def memory(lay: Layout | None = None) -> dict[str, int]:
    lay = lay or Layout.default()
    out = {}
    for name, pidfile in [
        ("registry", registry.pidfile()),
        *((c.name, c.pidfile(lay)) for c in COMPONENTS),
    ]:
        pid = process.running(pidfile)
        if pid is not None:
            out[name] = process.rss_bytes(pid)
    extra = cgroups.pod_pids() | leftovers.shim_pids(lay.containerd_socket)
    if extra:
        out["pods and shims"] = sum(process.rss_bytes(pid) for pid in extra)
    return out


def down(lay: Layout | None = None, *, purge: bool = False) -> None:
    lay = lay or Layout.default()
    with _exclusive(lay):
        t0 = time.monotonic()
        kubelet = by_name("kubelet")
        if process.stop(kubelet.pidfile(lay), timeout=kubelet.stop_timeout):
            say(f"stopped kubelet ({time.monotonic() - t0:.1f}s)")
        pods = cgroups.pod_pids()
        shims = leftovers.shim_pids(lay.containerd_socket)
        pod_netns = leftovers.named_netns(leftovers.netns_of(pods))  # ours: found before the kill
        leftovers.kill_all(pods | shims)
        if pods or shims:
            say(f"killed {len(pods)} pod processes and {len(shims)} containerd shims")

        _stop_daemons(lay)
        leftovers.stop_strays(lay, spare_named=False)  # ours, but no pidfile names them

        leftovers.delete_netns(pod_netns)
        unmounted = leftovers.unmount_all([lay.root])
        state = lay.host_state
        chains = hostnet.cleanup_iptables(kube=hostnet.kube_chains_ours(state))
        hostnet.delete_bridge()
        cgroups.release(state)
        restored = hostnet.restore_host_settings(state)
        shutil.rmtree(lay.run, ignore_errors=True)
        say(
            f"removed {len(pod_netns)} network namespaces, {unmounted} mounts, "
            f"{chains} iptables chains; restored {len(restored)} sysctls"
            + (f" ({', '.join(restored)})" if restored else "")
        )
        if purge and lay.root.exists():
            for child in lay.root.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                elif child.name != ".lock":
                    child.unlink()
            say(f"purged {lay.root}")
        say(f"cluster down in {time.monotonic() - t0:.1f}s")


def _stop_daemons(lay: Layout) -> None:
    """Stop the daemons but the kubelet in stages: etcd goes last, after every client of it."""
    took: dict[str, float] = {}

    def stop(comp: Component) -> None:
        start = time.monotonic()
        if process.stop(comp.pidfile(lay), timeout=comp.stop_timeout, sig=comp.stop_signal):
            took[comp.name] = time.monotonic() - start

    last = ("kube-apiserver", "etcd")
    stages = [[c for c in COMPONENTS if c.name not in ("kubelet", *last)]]
    stages += [[by_name(name)] for name in last]
    for number, stage in enumerate(stages):
        threads = [threading.Thread(target=stop, args=(c,)) for c in stage]
        if number == 0:  # the registry, our dockerd (if we started it), the git daemon
            threads.append(threading.Thread(target=lambda: took.update(daemons.stop_all())))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if took:
        say("stopped " + ", ".join(f"{n} ({s:.1f}s)" for n, s in sorted(took.items())))
