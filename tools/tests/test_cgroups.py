"""The node's cgroups on fake /sys/fs/cgroup trees: v1 (and hybrid) unchanged, v2 by design."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.substrate.cluster import cgroups

#: A real Debian 12 amd64 kernel's root controllers; a stock systemd boot enables two.
ROOT_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc"


def _v2_tree(root: Path, enabled: str = "memory pids") -> Path:
    root.mkdir(exist_ok=True)
    (root / "cgroup.controllers").write_text(ROOT_CONTROLLERS + "\n")
    (root / "cgroup.subtree_control").write_text(enabled + "\n")
    (root / "cgroup.procs").write_text("1\n")
    return root


def _v1_tree(root: Path, *, hybrid: bool = False) -> Path:
    for name in ("cpu", "memory", "pids", "cpuset", "systemd"):
        (root / name).mkdir(parents=True)
        (root / name / "cgroup.procs").write_text("1\n")
    (root / "cpuset" / "cpuset.cpus").write_text("0-1\n")
    (root / "cpuset" / "cpuset.mems").write_text("0\n")
    if hybrid:
        (root / "unified").mkdir()
        (root / "unified" / "cgroup.procs").write_text("1\n")
        (root / "unified" / "cgroup.controllers").write_text("")
    return root


#: subtree_control of the fake tree's non-root cgroups (a file there would keep rmdir from
#: removing the directory, which a real cgroup's files never do).
_BELOW_ROOT: dict[Path, set[str]] = {}


def _active(cgroup: Path) -> set[str]:
    if cgroup in _BELOW_ROOT:
        return _BELOW_ROOT[cgroup] if cgroup.is_dir() else set()
    return cgroups.controllers(cgroup, "cgroup.subtree_control")


def _kernel_subtree_control(cgroup: Path, change: str) -> None:
    """The kernel's semantics of one write to ``cgroup.subtree_control``."""
    sign, name = change[0], change[1:]
    root = (cgroup / "cgroup.controllers").exists()
    offered = cgroups.controllers(cgroup, "cgroup.controllers") if root else _active(cgroup.parent)
    if sign == "+" and name not in offered:
        raise OSError(errno.ENOENT, "No such file or directory")
    if sign == "-":
        for child in cgroup.iterdir():
            if child.is_dir() and name in _active(child):
                raise OSError(errno.EBUSY, "Device or resource busy")
    active = _active(cgroup) | {name} if sign == "+" else _active(cgroup) - {name}
    if root:
        (cgroup / "cgroup.subtree_control").write_text(" ".join(sorted(active)) + "\n")
    else:
        _BELOW_ROOT[cgroup] = active


@pytest.fixture(autouse=True)
def kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroups, "write_subtree_control", _kernel_subtree_control)
    monkeypatch.setattr(cgroups, "subtree", _active)


def _runtime_enables_everything(root: Path) -> None:
    """libcontainer's CreateCgroupPath: every controller offered, down the path to a pod."""
    for cgroup in (root, root / "hello-platform"):
        for name in ROOT_CONTROLLERS.split():
            _kernel_subtree_control(cgroup, f"+{name}")


def test_detect_each_layout(tmp_path: Path) -> None:
    systemd = tmp_path / "run-systemd"
    systemd.mkdir()
    assert cgroups.detect(_v2_tree(tmp_path / "v2")) == "v2"
    v2 = cgroups.describe(tmp_path / "v2", systemd)
    assert "cgroup v2" in v2 and "systemd is PID 1" in v2
    assert cgroups.detect(_v1_tree(tmp_path / "hy", hybrid=True)) == "hybrid"
    hybrid = cgroups.describe(tmp_path / "hy", tmp_path / "none")
    assert "cgroup v1 (hybrid" in hybrid and "no systemd" in hybrid
    assert cgroups.detect(_v1_tree(tmp_path / "v1")) == "v1"


@pytest.mark.parametrize("hybrid", [False, True])
def test_v1_is_unchanged(tmp_path: Path, hybrid: bool) -> None:
    root = _v1_tree(tmp_path / "cg", hybrid=hybrid)
    state = tmp_path / "host.json"
    cgroups.prepare(state, root)
    assert (root / "cpuset" / "hello-platform").is_dir()
    assert (root / "memory" / "hello-platform").is_dir()
    assert not state.exists()  # nothing recorded, nothing to give back
    assert not any(root.rglob("cgroup.subtree_control"))
    cgroups.release(state, root)
    assert not (root / "memory" / "hello-platform").exists()
    assert not state.exists()


def test_v2_enables_exactly_the_kubelets_controllers_and_gives_them_back(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path / "cg")
    state = tmp_path / "host.json"
    cgroups.prepare(state, root)
    assert cgroups.controllers(root, "cgroup.subtree_control") == {
        "cpu",
        "cpuset",
        "hugetlb",
        "memory",
        "pids",
    }
    ours = root / "hello-platform"
    assert _active(ours) == set(cgroups.KUBELET_CONTROLLERS)  # pinned: delegated below ours
    with pytest.raises(OSError, match="busy"):  # systemd cannot take one back now
        _kernel_subtree_control(root, "-cpu")
    record = json.loads(state.read_text())["cgroup"]
    assert record == {
        "before": {"/": ["memory", "pids"]},
        "enabled": {"/": ["cpu", "cpuset", "hugetlb"]},
    }
    # A second up changes nothing and keeps the first "before".
    assert cgroups.enable_controllers(state, root) == []
    assert json.loads(state.read_text())["cgroup"] == record
    _runtime_enables_everything(root)
    cgroups.note_runtime_controllers(state, root)
    cgroups.release(state, root)
    assert cgroups.controllers(root, "cgroup.subtree_control") == {"memory", "pids"}
    assert not ours.exists()
    assert "cgroup" not in json.loads(state.read_text())


def test_v2_never_disables_what_was_on_before_or_what_another_cgroup_uses(
    tmp_path: Path,
) -> None:
    root = _v2_tree(tmp_path / "cg", enabled="cpu memory pids")
    state = tmp_path / "host.json"
    assert cgroups.enable_controllers(state, root) == ["/:cpuset", "/:hugetlb"]
    # Meanwhile a foreign slice delegates cpuset to its children.
    foreign = root / "system.slice"
    foreign.mkdir()
    (foreign / "cgroup.subtree_control").write_text("cpuset\n")
    given, kept = cgroups.give_back(state, root)
    assert given == ["/:hugetlb"]
    assert kept == ["/:cpuset (used by system.slice)"]
    assert cgroups.controllers(root, "cgroup.subtree_control") == {
        "cpu",
        "cpuset",
        "memory",
        "pids",
    }
    assert (foreign / "cgroup.subtree_control").read_text() == "cpuset\n"


def test_v2_a_busy_controller_is_kept_and_said(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path / "cg")
    state = tmp_path / "host.json"
    cgroups.prepare(state, root)
    leftover = root / "hello-platform" / "kubepods"  # a pod cgroup left behind: ours stays
    leftover.mkdir()
    (leftover / "cgroup.procs").write_text("42\n")
    cgroups.remove_pod_cgroups(root)
    _BELOW_ROOT[root / "hello-platform"] = {"cpu"}
    given, kept = cgroups.give_back(state, root)
    assert given == ["/:cpuset", "/:hugetlb"]
    assert kept == ["/:cpu (Device or resource busy)"]


def test_v2_without_hugetlb_enables_what_the_root_offers(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path / "cg")
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")  # UML, say
    assert cgroups.enable_controllers(tmp_path / "host.json", root) == ["/:cpu", "/:cpuset"]


def test_pod_pids_read_only_our_cgroup_root(tmp_path: Path) -> None:
    for hierarchy in ("pids", "memory"):
        (tmp_path / hierarchy).mkdir()
        (tmp_path / hierarchy / "cgroup.procs").write_text("1\n")
    leaf = tmp_path / "pids" / "hello-platform" / "kubepods" / "besteffort" / "podX" / "ctr"
    leaf.mkdir(parents=True)
    (leaf / "cgroup.procs").write_text("101\n102\n")
    foreign = tmp_path / "pids" / "kubepods" / "foreign"
    foreign.mkdir(parents=True)
    (foreign / "cgroup.procs").write_text("555\n")
    assert cgroups.pod_pids(tmp_path) == {101, 102}
    cgroups.ensure_pod_cgroup(tmp_path)
    assert (tmp_path / "memory" / "hello-platform").is_dir()


def test_v2_a_controller_that_cannot_be_enabled_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _v2_tree(tmp_path / "cg")

    def refuse_cpu(cgroup: Path, change: str) -> None:
        if change == "+cpu":
            raise OSError(errno.EINVAL, "Invalid argument")
        _kernel_subtree_control(cgroup, change)

    monkeypatch.setattr(cgroups, "write_subtree_control", refuse_cpu)
    state = tmp_path / "host.json"
    with pytest.raises(PlatformError, match=r"subtree_control \(cpu: Invalid argument\)"):
        cgroups.enable_controllers(state, root)
    # What was enabled is recorded all the same, so down gives it back.
    assert json.loads(state.read_text())["cgroup"]["enabled"] == {"/": ["cpuset", "hugetlb"]}


def test_v2_an_up_that_failed_before_ready_still_gives_back_the_runtimes(tmp_path: Path) -> None:
    root = _v2_tree(tmp_path / "cg", enabled="cpu memory pids")
    state = tmp_path / "host.json"
    cgroups.prepare(state, root)
    _runtime_enables_everything(root)  # the kubelet started, then up failed: never noted
    _kernel_subtree_control(root / "hello-platform", "-rdma")
    _kernel_subtree_control(root, "-rdma")
    (root / "foreign").mkdir()  # someone else's leaf, using rdma from the root meanwhile
    _kernel_subtree_control(root, "+rdma")
    cgroups.release(state, root)
    assert _active(root) == {"cpu", "memory", "pids", "rdma"}  # the foreign rdma stays
