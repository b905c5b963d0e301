"""Unit tests of the embedded cluster's code: no root, no daemons, fast."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from hello_platform.clients import oci
from hello_platform.core.wait import until
from hello_platform.substrate import process, registry
from hello_platform.substrate.cluster import (
    addons,
    binaries,
    config,
    health,
    hostnet,
    images,
    layout,
    leftovers,
    pki,
)
from hello_platform.substrate.cluster.cli import format_status
from hello_platform.substrate.cluster.components import COMPONENTS, by_name
from hello_platform.substrate.cluster.layout import Layout
from hello_platform.substrate.cluster.node import Row


@pytest.fixture(scope="module")
def lay(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A layout with a full PKI (generated once for the module: ECDSA is fast anyway)."""
    lay = Layout(tmp_path_factory.mktemp("cluster"))
    pki.ensure_pki(lay.pki)
    return lay


# --- pki ---------------------------------------------------------------------------


def test_pki_issues_every_leaf_signed_by_its_ca(lay: Layout) -> None:
    ca = pki.load_cert(lay.cert("ca"))
    front = pki.load_cert(lay.cert("front-proxy-ca"))
    for leaf in pki.leaves():
        cert = pki.load_cert(lay.cert(leaf.name))
        issuer = front if leaf.ca == "front-proxy-ca" else ca
        cert.verify_directly_issued_by(issuer)
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == leaf.cn
    assert (lay.pki / "sa.key").exists() and (lay.pki / "sa.pub").exists()
    assert oct(lay.key("ca").stat().st_mode & 0o777) == "0o600"


def test_apiserver_and_kubelet_certs_cover_the_addresses_clients_use(lay: Layout) -> None:
    dns, ips = pki.sans(pki.load_cert(lay.cert("apiserver")))
    assert {layout.NODE_IP, layout.KUBERNETES_SERVICE_IP, "127.0.0.1"} <= ips
    assert "kubernetes.default.svc.cluster.local" in dns
    _, kubelet_ips = pki.sans(pki.load_cert(lay.cert("kubelet-server")))
    assert layout.NODE_IP in kubelet_ips  # metrics-server verifies it with the cluster CA


def test_client_cert_identities_match_kubernetes_conventions(lay: Layout) -> None:
    node = pki.load_cert(lay.cert("kubelet-client")).subject
    assert node.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    assert (
        node.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        == f"system:node:{layout.NODE_NAME}"
    )


def test_pki_is_reused_and_only_missing_or_stale_certs_are_reissued(lay: Layout) -> None:
    assert pki.ensure_pki(lay.pki) == []
    lay.cert("scheduler").unlink()
    assert pki.ensure_pki(lay.pki) == ["scheduler"]
    # A leaf that lost a wanted name is re-issued.
    leaf = next(x for x in pki.leaves() if x.name == "kubelet-server")
    ca = pki.load_cert(lay.cert("ca"))
    widened = pki.Leaf(leaf.name, leaf.cn, ips=(*leaf.ips, "10.0.0.9"), usages=leaf.usages)
    assert pki.needs_issue(lay.cert("kubelet-server"), widened, ca)
    assert not pki.needs_issue(lay.cert("kubelet-server"), leaf, ca)


def test_a_regenerated_ca_reissues_every_leaf_it_signs(tmp_path: Path) -> None:
    lay = Layout(tmp_path)
    pki.ensure_pki(lay.pki)
    old_ca = pki.load_cert(lay.cert("ca"))
    # A new CA with the same subject name: issuer names still match, signatures do not.
    lay.cert("ca").unlink()
    lay.key("ca").unlink()
    reissued = set(pki.ensure_pki(lay.pki))
    ca = pki.load_cert(lay.cert("ca"))
    assert ca.subject == old_ca.subject and ca != old_ca
    signed_by_ca = {leaf.name for leaf in pki.leaves() if leaf.ca == "ca"}
    assert signed_by_ca <= reissued
    for name in signed_by_ca:
        assert pki.signed_by(pki.load_cert(lay.cert(name)), ca)
        assert not pki.signed_by(pki.load_cert(lay.cert(name)), old_ca)
    assert pki.ensure_pki(lay.pki) == []


def test_signed_by_rejects_a_leaf_of_another_ca_with_the_same_name(tmp_path: Path) -> None:
    one, two = Layout(tmp_path / "one"), Layout(tmp_path / "two")
    pki.ensure_pki(one.pki)
    pki.ensure_pki(two.pki)
    ca_two = pki.load_cert(two.cert("ca"))
    leaf = next(x for x in pki.leaves() if x.name == "apiserver")
    assert pki.load_cert(one.cert("apiserver")).issuer == ca_two.subject
    assert pki.needs_issue(one.cert("apiserver"), leaf, ca_two)
    assert not pki.needs_issue(two.cert("apiserver"), leaf, ca_two)


# --- config ------------------------------------------------------------------------


def test_kubelet_config_runs_on_cgroup_v1_with_the_dedicated_containerd(lay: Layout) -> None:
    doc = json.loads(config.kubelet_config(lay))
    assert doc["failCgroupV1"] is False
    assert doc["cgroupDriver"] == "cgroupfs"
    assert doc["containerRuntimeEndpoint"] == f"unix://{lay.containerd_socket}"
    assert doc["authentication"]["anonymous"]["enabled"] is False
    assert doc["authorization"]["mode"] == "Webhook"
    assert doc["clusterDNS"] == [layout.DNS_SERVICE_IP]


def test_pods_never_get_a_loopback_only_resolver(tmp_path: Path) -> None:
    etc, resolved = tmp_path / "resolv.conf", tmp_path / "resolved.conf"
    etc.write_text("nameserver 127.0.0.53\noptions edns0\n")
    assert config.host_resolv_conf(etc, resolved) == str(etc)  # nothing better exists
    resolved.write_text("nameserver 10.0.0.1\n")
    assert config.host_resolv_conf(etc, resolved) == str(resolved)
    etc.write_text("nameserver 10.255.255.53\n")
    assert config.host_resolv_conf(etc, resolved) == str(etc)


def test_containerd_config_is_isolated_and_uses_local_images(lay: Layout) -> None:
    text = config.containerd_config(lay, sandbox_image="127.0.0.1:5000/p:1")
    doc = tomllib.loads(text)
    assert doc["root"] == str(lay.containerd_root)
    assert doc["grpc"]["address"] == str(lay.containerd_socket)
    cri = doc["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == "127.0.0.1:5000/p:1"
    assert cri["restrict_oom_score_adj"] is True
    assert cri["cni"]["conf_dir"] == str(lay.cni_conf_dir)
    assert cri["cni"]["bin_dir"] == str(binaries.CNI_BIN_DIR)
    assert cri["registry"]["config_path"] == str(lay.registry_hosts_dir)
    runc = cri["containerd"]["runtimes"]["runc"]["options"]
    assert runc["SystemdCgroup"] is False
    hosts = tomllib.loads(config.registry_hosts_toml("127.0.0.1:5000"))
    assert hosts["server"] == "http://127.0.0.1:5000"


def test_cni_conflist_bridges_pods_on_the_node_subnet(lay: Layout) -> None:
    doc = json.loads(config.cni_conflist(lay))
    kinds = [p["type"] for p in doc["plugins"]]
    assert kinds == ["bridge"]  # no plugin that writes (shared) CNI-* iptables chains
    bridge = doc["plugins"][0]
    assert bridge["bridge"] == layout.BRIDGE
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"][0][0] == {
        "subnet": layout.NODE_POD_SUBNET,
        "gateway": layout.NODE_IP,
    }


def test_kubelet_keeps_pods_in_our_own_cgroup_root(lay: Layout) -> None:
    doc = json.loads(config.kubelet_config(lay))
    assert doc["cgroupRoot"] == "/hello-platform"
    assert doc["authentication"]["anonymous"] == {"enabled": False}


def test_api_server_allows_anonymous_only_for_health_checks() -> None:
    doc = json.loads(config.authentication_config())
    assert doc["anonymous"]["enabled"] is True
    assert [c["path"] for c in doc["anonymous"]["conditions"]] == ["/livez", "/readyz", "/healthz"]


def test_kube_proxy_serves_node_ports_on_loopback(lay: Layout) -> None:
    doc = json.loads(config.kube_proxy_config(lay))
    assert doc["mode"] == "iptables"
    assert "127.0.0.0/8" in doc["nodePortAddresses"]
    assert doc["iptables"]["localhostNodePorts"] is True


def test_config_files_are_rewritten_only_when_their_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "kube-proxy.json"
    assert config.write(path, "a", 0o600)
    inode = path.stat().st_ino
    assert not config.write(path, "a", 0o600)  # same content: untouched (kube-proxy watches)
    assert path.stat().st_ino == inode
    assert config.write(path, "b", 0o600)
    assert path.read_text() == "b" and oct(path.stat().st_mode & 0o777) == "0o600"


def test_kubeconfig_embeds_credentials(lay: Layout) -> None:
    doc = json.loads(config.kubeconfig(lay, "admin"))
    assert doc["clusters"][0]["cluster"]["server"] == f"https://{layout.NODE_IP}:6443"
    assert doc["users"][0]["user"]["client-certificate-data"]
    assert doc["current-context"] == layout.CONTEXT


def test_component_table_is_complete_and_argv_builders_render(
    lay: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.substrate.cluster import binaries

    monkeypatch.setattr(binaries, "tool", lambda name: Path("/bin") / name)
    names = [c.name for c in COMPONENTS]
    assert names == [
        "etcd",
        "containerd",
        "kube-apiserver",
        "apiserver-loopback",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
    ]
    api = by_name("kube-apiserver").argv(lay)
    assert "--authorization-mode=Node,RBAC" in api
    assert f"--authentication-config={lay.etc / 'authentication.json'}" in api
    assert not any(a.startswith("--anonymous-auth") for a in api)  # the config says it
    assert any(a.startswith("--requestheader-client-ca-file=") for a in api)
    assert any(a.startswith("--proxy-client-cert-file=") for a in api)
    cm = by_name("kube-controller-manager").argv(lay)
    assert any(a.startswith("--cluster-signing-cert-file=") for a in cm)
    for comp in COMPONENTS:
        argv = comp.argv(lay)
        assert argv and all(isinstance(a, str) for a in argv)


# --- addons, images, registry --------------------------------------------------------


def test_addons_render_fills_every_placeholder() -> None:
    text = addons.render({"coredns": "r/coredns:1", "metrics-server": "r/ms:1"})
    assert "${" not in text
    assert "image: r/coredns:1" in text and "image: r/ms:1" in text
    assert f"clusterIP: {layout.DNS_SERVICE_IP}" in text
    assert "kind: APIService" in text


def test_image_layer_is_reproducible_and_manifest_points_at_its_blobs() -> None:
    spec = images.ImageSpec("demo", lambda: Path("/nonexistent"), ("/demo",))
    first = images.image_blobs(spec, b"\x7fELF-demo")
    second = images.image_blobs(spec, b"\x7fELF-demo")
    assert first == second
    layer, cfg, manifest = first
    doc = json.loads(manifest)
    assert doc["config"]["digest"] == oci.digest_of(cfg)
    assert doc["layers"][0]["digest"] == oci.digest_of(layer)
    conf = json.loads(cfg)
    assert conf["config"]["User"] == images.NONROOT
    assert conf["config"]["Entrypoint"] == ["/demo"]
    import gzip

    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        member = tar.getmember("demo")
        assert member.mode == 0o755 and member.mtime == 0
        assert tar.getmember("tmp").isdir()


def test_tag_follows_the_binary_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert images.tag_for(a) != images.tag_for(b)
    assert images.tag_for(a).startswith("sha-")


def test_registry_config_listens_on_loopback_only(tmp_path: Path) -> None:
    doc = json.loads(registry.render_config(tmp_path / "store"))
    assert doc["http"]["addr"] == "127.0.0.1:5000"
    assert doc["storage"]["filesystem"]["rootdirectory"] == str(tmp_path / "store")


# --- process -------------------------------------------------------------------------


def test_start_records_pid_and_stop_ends_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    pid = process.start(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        pidfile=pidfile,
        log=tmp_path / "sleep.log",
    )
    try:
        assert process.running(pidfile) == pid
        assert process.stop(pidfile, timeout=5)
        assert process.running(pidfile) is None
        assert not pidfile.exists()
    finally:
        if process.running(pidfile):
            os.kill(pid, 9)
        # Reap it: in this test the child is ours.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def test_a_component_stopped_by_sigkill_gets_sigkill_first(tmp_path: Path) -> None:
    pidfile = tmp_path / "stubborn.pid"
    ignores_term = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    pid = process.start([sys.executable, "-c", ignores_term], pidfile=pidfile, log=tmp_path / "log")
    try:
        time.sleep(0.5)  # let it install its handler
        start = time.monotonic()
        assert process.stop(pidfile, timeout=30, sig=signal.SIGKILL)
        assert time.monotonic() - start < 15, "it waited for the SIGTERM timeout"
        assert process.reap(pid) == -signal.SIGKILL  # reaped by stop: no zombie left
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def test_only_the_api_server_is_killed_so_it_keeps_its_service_endpoint() -> None:
    from hello_platform.substrate.cluster.components import COMPONENTS

    killed = {c.name for c in COMPONENTS if c.stop_signal == signal.SIGKILL}
    assert killed == {"kube-apiserver"}


def test_a_daemon_that_exits_early_is_reaped_and_its_end_named(tmp_path: Path) -> None:
    pidfile = tmp_path / "d.pid"
    pid = process.start(
        ["sh", "-c", "echo 'listen tcp: address already in use'; exit 3"],
        pidfile=pidfile,
        log=tmp_path / "d.log",
    )
    until(lambda: process.running(pidfile) is None, what="the exit", timeout=10, interval=0.05)
    assert process.ended(pidfile, recheck=0) == "exited with status 3"
    assert not Path(f"/proc/{pid}").exists()  # reaped: no zombie left behind
    killed = process.start(["sleep", "30"], pidfile=pidfile, log=tmp_path / "d.log")
    os.kill(killed, signal.SIGKILL)
    until(lambda: process.running(pidfile) is None, what="the kill", timeout=10, interval=0.05)
    assert process.ended(pidfile, recheck=0) == "was killed by signal 9"


def test_a_running_daemon_is_never_called_exited(tmp_path: Path) -> None:
    from hello_platform.core.errors import PlatformError
    from hello_platform.substrate.cluster import components

    pidfile, log = tmp_path / "d.pid", tmp_path / "d.log"

    def wait(label: str, detail: str, timeout: float) -> float:
        seen = health.Health(False, detail)
        return components.wait_for(
            label, lambda: seen, timeout=timeout, step=1, pidfile=pidfile, log=log
        )

    process.start(["sleep", "30"], pidfile=pidfile, log=log)
    try:
        assert process.ended(pidfile, recheck=0) is None
        with pytest.raises(PlatformError, match=r"^slow is not healthy after 1s: handshake"):
            wait("slow", "handshake timeout", 1)
    finally:
        process.stop(pidfile)
    process.start(["sh", "-c", "echo 'boom: bad flag'; exit 2"], pidfile=pidfile, log=log)
    with pytest.raises(PlatformError, match=r"^dead exited with status 2 while starting: boom"):
        wait("dead", "refused", 30)


def test_a_zombie_leader_with_live_threads_is_running(tmp_path: Path) -> None:
    stat = "{pid} (kube-apiserver) {state} 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 9 0 777 0"
    for pid, state, tasks in ((50, "Z", 9), (51, "Z", 1), (52, "S", 9)):
        (tmp_path / str(pid) / "task").mkdir(parents=True)
        (tmp_path / str(pid) / "stat").write_text(stat.format(pid=pid, state=state))
        for task in range(tasks):
            (tmp_path / str(pid) / "task" / str(pid + task)).mkdir()
    record = process.PidRecord(50, 777, "/x")
    assert process.alive(record, tmp_path)  # its main thread ended, its threads run on
    assert not process.alive(process.PidRecord(51, 777, "/x"), tmp_path)  # exited
    assert process.alive(process.PidRecord(52, 777, "/x"), tmp_path)


def test_a_recycled_pid_is_never_trusted_nor_signalled(tmp_path: Path) -> None:
    pidfile = tmp_path / "me.pid"
    me = os.getpid()
    real = process.start_time(me)
    assert real is not None
    exe = os.path.realpath(sys.executable)
    process.write_pidfile(pidfile, process.PidRecord(me, real + 1, exe))
    assert process.running(pidfile) is None
    assert process.stop(pidfile) is False  # we are still here
    process.write_pidfile(pidfile, process.PidRecord(me, real, "/usr/bin/not-python"))
    assert process.running(pidfile) is None


def test_start_time_parses_names_with_spaces_and_parentheses(tmp_path: Path) -> None:
    stat = "42 (a b) c)) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0"
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(stat)
    assert process.start_time(42, tmp_path) == 777
    assert process.start_time(43, tmp_path) is None


def test_exclusive_serializes_holders(tmp_path: Path) -> None:
    lock = tmp_path / "sub" / ".lock"
    order: list[str] = []
    with process.exclusive(lock):

        def second() -> None:
            with process.exclusive(lock):
                order.append("second")

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(0.2)
        order.append("first")
    worker.join(5)
    assert order == ["first", "second"]


def test_big_logs_are_rotated_on_start(tmp_path: Path) -> None:
    log = tmp_path / "etcd.log"
    log.write_text("x" * 100)
    assert not process.rotate(log, limit=1000)
    assert process.rotate(log, limit=10)
    assert not log.exists() and (tmp_path / "etcd.log.1").read_text() == "x" * 100
    assert not process.rotate(tmp_path / "missing.log", limit=10)


def test_garbage_pidfile_reads_as_none(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pid"
    bad.write_text("not json")
    assert process.read_pidfile(bad) is None
    assert process.running(tmp_path / "missing.pid") is None


# --- host plumbing -------------------------------------------------------------------

IPTABLES_S = """\
-P FORWARD DROP
-N CNI-FORWARD
-N CNI-FOREIGN
-N DOCKER
-N HELLO-FORWARD
-N KUBE-FORWARD
-N KUBE-FOREIGN
-N KUBE-SVC-ABCDEFGHIJKLMNOP
-A FORWARD -m comment --comment hello-platform -j HELLO-FORWARD
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
-A FORWARD -j CNI-FOREIGN
-A FORWARD -j KUBE-FOREIGN
-A FORWARD -o docker0 -j DOCKER
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-SVC-ABCDEFGHIJKLMNOP -j KUBE-FORWARD
"""


def test_iptables_cleanup_removes_our_chains_and_known_kube_proxy_ones_only() -> None:
    deletes, chains = hostnet.rules_to_delete(IPTABLES_S.splitlines(), hostnet.owned_chains(True))
    assert chains == ["HELLO-FORWARD", "KUBE-FORWARD", "KUBE-SVC-ABCDEFGHIJKLMNOP"]
    assert deletes == [
        "-D FORWARD -m comment --comment hello-platform -j HELLO-FORWARD",
        '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    ]
    script, count = hostnet.restore_script(
        "filter", IPTABLES_S.splitlines(), hostnet.owned_chains(True)
    )
    assert count == 3
    assert script.startswith("*filter\n") and script.endswith("COMMIT\n")
    for foreign in ("DOCKER", "CNI-", "KUBE-FOREIGN"):
        assert foreign not in script
    assert hostnet.restore_script("nat", ["-P PREROUTING ACCEPT"], hostnet.owned_chains(True)) == (
        "",
        0,
    )


def test_kube_chains_are_left_alone_unless_our_node_made_them() -> None:
    deletes, chains = hostnet.rules_to_delete(IPTABLES_S.splitlines(), hostnet.owned_chains(False))
    assert chains == ["HELLO-FORWARD"]
    assert deletes == ["-D FORWARD -m comment --comment hello-platform -j HELLO-FORWARD"]


def test_a_rule_with_our_comment_outside_our_chains_is_removed() -> None:
    rules = ["-A POSTROUTING -s 10.244.0.0/24 -m comment --comment hello-platform -j MASQUERADE"]
    deletes, _ = hostnet.rules_to_delete(rules, hostnet.owned_chains(False))
    assert deletes == [
        "-D POSTROUTING -s 10.244.0.0/24 -m comment --comment hello-platform -j MASQUERADE"
    ]


def test_firewall_script_defines_only_hello_chains() -> None:
    chains = set()
    for table in ("raw", "filter", "nat"):
        script = hostnet.firewall_script(table)
        chains |= {line.split()[1] for line in script.splitlines() if line.startswith("-A")}
    assert chains == {"HELLO-PREROUTING", "HELLO-FORWARD", "HELLO-POSTROUTING"}
    raw = hostnet.firewall_script("raw")
    for cidr in ("10.244.0.0/16", "10.96.0.0/16"):
        assert f"-A HELLO-PREROUTING -d {cidr} -m comment --comment hello-platform -j DROP" in raw
        assert f"-A HELLO-PREROUTING -d {cidr} -i hello0 -m comment" in raw
    assert "MASQUERADE" in hostnet.firewall_script("nat")


def test_sysctls_are_recorded_once_and_restored(tmp_path: Path) -> None:
    root = tmp_path / "sys"
    for key, value in {
        "net/ipv4/ip_forward": "0",
        "net/bridge/bridge-nf-call-iptables": "0",
        "net/bridge/bridge-nf-call-ip6tables": "1",
        "net/ipv4/conf/all/route_localnet": "0",
        "kernel/panic": "0",
    }.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(value + "\n")
    state = tmp_path / "host.json"
    assert hostnet.apply_sysctls(state, root) == []
    assert (root / "net/ipv4/ip_forward").read_text() == "1"
    (root / "kernel/panic").write_text("10\n")  # what the kubelet does
    assert hostnet.apply_sysctls(state, root) == []  # a second up keeps the first record
    restored = hostnet.restore_host_settings(state, root)
    assert sorted(restored) == [
        "kernel.panic",
        "net.bridge.bridge-nf-call-iptables",
        "net.ipv4.conf.all.route_localnet",
        "net.ipv4.ip_forward",
    ]
    assert (root / "net/ipv4/ip_forward").read_text().strip() == "0"
    assert (root / "kernel/panic").read_text().strip() == "0"
    assert not state.exists()
    assert hostnet.restore_host_settings(state, root) == []  # never ran: nothing changes


def test_mounts_under_lists_deepest_first() -> None:
    info = "\n".join(
        [
            "1 0 0:1 / / rw - ext4 /dev/vda rw",
            "2 1 0:2 / /s/cluster/kubelet/pods/x/volumes/tok rw - tmpfs tmpfs rw",
            "3 1 0:3 / /s/cluster/run/containerd/t/rootfs rw - overlay overlay rw",
            "4 1 0:4 / /s/clusterother rw - tmpfs tmpfs rw",
            "5 1 0:5 / /s/cluster/kubelet/pods/x/volumes/tok/sub rw - tmpfs tmpfs rw",
        ]
    )
    found = leftovers.mounts_under([Path("/s/cluster")], info)
    assert found[0] == "/s/cluster/kubelet/pods/x/volumes/tok/sub"
    assert set(found) == {
        "/s/cluster/kubelet/pods/x/volumes/tok",
        "/s/cluster/kubelet/pods/x/volumes/tok/sub",
        "/s/cluster/run/containerd/t/rootfs",
    }


def test_only_the_netns_of_our_pods_are_named_for_removal(tmp_path: Path) -> None:
    for name in ("cni-ours", "cni-foreign"):
        (tmp_path / name).write_text("")
    ours = (tmp_path / "cni-ours").stat().st_ino
    assert leftovers.named_netns({ours}, tmp_path) == ["cni-ours"]
    assert leftovers.named_netns(set(), tmp_path) == []
    assert leftovers.named_netns({ours}, tmp_path / "missing") == []
    assert leftovers.netns_of([os.getpid()]) == set()  # the host's own namespace is never ours


def test_shim_pids_match_only_our_containerd(tmp_path: Path) -> None:
    ours, docker = tmp_path / "ours.sock", "/run/docker/containerd/containerd.sock"
    for pid, argv in (
        (7, ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-address", str(ours)]),
        (8, ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-address", docker]),
        (9, ["/usr/bin/sleep", str(ours)]),
    ):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
    assert leftovers.shim_pids(ours, proc=tmp_path) == {7}


# --- health and status ---------------------------------------------------------------


def test_node_and_deployment_readiness_parsing() -> None:
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert health.node_ready(ready).ok
    notready = {"status": {"conditions": [{"type": "Ready", "status": "False", "message": "x"}]}}
    assert not health.node_ready(notready).ok
    assert not health.node_ready({}).ok
    import datetime as dt

    stale = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T10:00:00Z"}
            ]
        }
    }
    before = dt.datetime(2026, 1, 1, 9, 59, 59, 500000, tzinfo=dt.UTC)
    after = dt.datetime(2026, 1, 1, 10, 0, 1, tzinfo=dt.UTC)
    assert health.node_ready(stale, since=before).ok
    assert not health.node_ready(stale, since=after).ok
    dep = {"spec": {"replicas": 2}, "status": {"readyReplicas": 2, "updatedReplicas": 2}}
    assert health.deployment_ready(dep) == health.Health(True, "2/2 ready")
    dep["status"]["readyReplicas"] = 1
    assert not health.deployment_ready(dep).ok


def test_pods_ready_after_a_restart_must_be_fresh() -> None:
    import datetime as dt

    def pod(ready: str, at: str, deleting: bool = False) -> dict[str, object]:
        meta = {"deletionTimestamp": at} if deleting else {}
        cond = {"type": "Ready", "status": ready, "lastTransitionTime": at}
        return {"metadata": meta, "status": {"conditions": [cond]}}

    since = dt.datetime(2026, 1, 1, 10, 0, 0, tzinfo=dt.UTC)
    stale, fresh = "2026-01-01T09:00:00Z", "2026-01-01T10:00:05Z"
    assert health.pods_ready([pod("True", stale)], 1, None).ok
    assert not health.pods_ready([pod("True", stale)], 1, since).ok
    assert health.pods_ready([pod("True", fresh)], 1, since).ok
    assert not health.pods_ready([pod("False", fresh)], 1, since).ok
    assert not health.pods_ready([pod("True", fresh, deleting=True)], 1, since).ok
    assert health.pods_ready([pod("True", fresh), pod("True", stale)], 2, None).ok


def test_http_probe_against_a_local_server() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = 200 if self.path == "/healthz" else 503
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"nope")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert health.http(f"http://127.0.0.1:{port}/healthz") == health.Health(True, "ok")
        assert health.http(f"http://127.0.0.1:{port}/readyz") == health.Health(False, "HTTP 503")
    finally:
        server.shutdown()
    assert not health.http(f"http://127.0.0.1:{port}/healthz", timeout=0.5).ok


def test_probes_never_leave_the_host() -> None:
    assert health.is_local_address("127.0.0.1")
    # A documentation address (RFC 5737) is never ours: answered "down", nothing is sent.
    assert not health.is_local_address("203.0.113.7")
    probe = health.http("https://203.0.113.7:6443/readyz")
    assert not probe.ok and "not up on this host" in probe.detail


def test_unix_socket_probe(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    assert not health.unix_socket(path).ok
    with socket.socket(socket.AF_UNIX) as srv:
        srv.bind(str(path))
        srv.listen(1)
        assert health.unix_socket(path).ok


def test_status_table_format() -> None:
    text = format_status(
        [Row("etcd", True, 12, "healthy"), Row("kube-scheduler", False, None, "not running")]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["etcd", "ok", "12", "healthy"]
    assert lines[1].split()[:3] == ["kube-scheduler", "FAIL", "-"]


def test_cli_registers_the_cluster_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", "cluster", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for action in ("up", "down", "status", "kubeconfig", "logs"):
        assert action in done.stdout


def test_metrics_server_resolution_exceeds_its_kubelet_timeout() -> None:
    """metrics-server v0.8 refuses to start unless its resolution exceeds the kubelet timeout."""
    text = (Path(__file__).parents[2] / "deploy/cluster/addons/20-metrics-server.yaml").read_text()
    flags = dict(
        line.strip().removeprefix("- --").split("=", 1)
        for line in text.splitlines()
        if line.strip().startswith("- --") and "=" in line
    )

    def seconds(value: str) -> int:
        assert value.endswith("s"), value
        return int(value[:-1])

    assert seconds(flags["metric-resolution"]) >= 10  # the minimum it accepts
    assert seconds(flags["metric-resolution"]) > seconds(flags["kubelet-request-timeout"])


# ------------------------------------------------- found by the drill: stale conntrack


def test_only_unanswered_attempts_at_node_ports_are_forgotten() -> None:
    """After ``down`` + ``up`` the cluster-restart drill's clients left SYN_SENT entries
    without DNAT; a new connection reusing such a source port was refused (see hostnet)."""
    listing = "\n".join(
        [
            "tcp 6 59 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=41013 dport=30083 [UNREPLIED] "
            "src=127.0.0.1 dst=127.0.0.1 sport=30083 dport=41013 mark=0 use=1",
            "tcp 6 80 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=41014 dport=30080 [UNREPLIED] "
            "src=10.244.0.30 dst=10.244.0.1 sport=8000 dport=41014 mark=0 use=1",
            "tcp 6 99 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=41015 dport=5000 [UNREPLIED] "
            "src=127.0.0.1 dst=127.0.0.1 sport=5000 dport=41015 mark=0 use=1",
            "tcp 6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=41016 dport=30081 "
            "src=10.244.0.7 dst=10.244.0.1 sport=8000 dport=41016 [ASSURED] mark=0 use=1",
        ]
    )
    assert leftovers.unanswered_node_ports(listing) == [30080, 30083]
    assert leftovers.unanswered_node_ports("") == []


def test_waits_scale_with_the_slowest_start_this_host_showed(
    lay: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.substrate.cluster import components
    from hello_platform.substrate.cluster.components import Component

    assert components.scaled(60, 0) == 60
    assert components.scaled(60, 50) == 100  # a slow host: twice its slowest start so far
    bounds: list[object] = []
    monkeypatch.setattr(components, "wait_for", lambda *a, **k: bounds.append(k["timeout"]) or 1.0)
    comp = Component("c", lambda _: ["true"], lambda _: health.Health(True, "ok"), timeout=20)
    components.wait_started(lay, comp, 1, slowest=45.0)
    assert bounds == [90.0]


def test_a_daemon_that_exits_while_starting_is_started_again(
    lay: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.core.errors import PlatformError
    from hello_platform.substrate.cluster import components
    from hello_platform.substrate.cluster.components import Component

    comp = Component(
        "flaky", lambda _: ["true"], lambda _: health.Health(True, "ok"), start_retries=2
    )
    outcomes = iter([PlatformError("flaky exited while starting"), 3.5])
    starts: list[str] = []

    def fake_wait_for(*args: object, **kwargs: object) -> float:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(components, "wait_for", fake_wait_for)
    monkeypatch.setattr(components.process, "vacant", lambda pidfile: True)
    monkeypatch.setattr(components, "start_component", lambda lay, c: starts.append(c.name))
    monkeypatch.setattr(components.time, "sleep", lambda s: None)
    assert components.wait_started(lay, comp, 1) == 3.5
    assert starts == ["flaky"]
    # Out of retries (or still running but unhealthy): the error stands.
    monkeypatch.setattr(
        components, "wait_for", lambda *a, **k: (_ for _ in ()).throw(PlatformError("x"))
    )
    with pytest.raises(PlatformError):
        components.wait_started(lay, Component("once", lambda _: ["true"], comp.health), 1)
    assert by_name("kubelet").start_retries > 0
    assert by_name("kube-controller-manager").start_retries > 0
    assert by_name("kube-scheduler").start_retries > 0
