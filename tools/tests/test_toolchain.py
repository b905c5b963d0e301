"""Unit tests of the pinned toolchain: pins, resolution order, cache, lock, builds (faked)."""

from __future__ import annotations

import fcntl
import json
import sys
import threading
import time
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core.errors import PlatformError
from hello_platform.toolchain import gobuild, pins, resolver
from hello_platform.toolchain.gobuild import BuildStats
from hello_platform.toolchain.pins import Tool, load
from hello_platform.toolchain.resolver import Resolver

PINS = """
[go]
min_version = "1.22"

[tools.fakekube]
version = "v1.34.4"
module = "example.com/fakekube"
local_replace_version = "v0.34.4"
ldflags = ["-s", "-X main.version={version}"]
version_args = ["--version"]
version_regex = 'Fake (v\\S+)'

[tools.fakekube.binaries]
fake-apiserver = "example.com/fakekube/cmd/fake-apiserver"
fakectl = { package = "example.com/fakekube/cmd/fakectl", version_args = ["version"], \
version_regex = 'gitVersion: (\\S+)' }

[tools.solo]
version = "v0.8.0"
module = "example.com/solo"
ldflags = ["-X main.version={version}"]
version_args = ["-v"]
version_regex = '^(v\\S+)'
binaries = { solo = "example.com/solo/cmd/solo" }
"""


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated cache, a PATH of only tmp/bin plus the system, and fake pins."""
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    pins_file = tmp_path / "toolchain.toml"
    pins_file.write_text(PINS)
    monkeypatch.setattr(pins, "PINS_FILE", pins_file)
    return tmp_path


class FakeBuilder:
    """Writes shell-script "binaries" that report ``reports`` (default: the pinned version)."""

    def __init__(self, reports: str | None = None, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.reports = reports
        self.fail = fail

    def __call__(self, tool: Tool, dest: Path, work: Path, log: Path, label: str) -> BuildStats:
        self.calls.append(tool.name)
        with log.open("a") as fh:
            fh.write("compiling things\n")
        if self.fail:
            raise PlatformError(f"building {tool.name} failed", log=str(log))
        version = self.reports or tool.version
        for b in tool.binaries:
            if "gitVersion" in b.version_regex:
                script(dest / b.name, f'echo "gitVersion: {version}"')
            elif b.version_regex.startswith("Fake"):
                script(dest / b.name, f'echo "Fake {version}"')
            else:
                script(dest / b.name, f'echo "{version}"')
        return BuildStats(seconds=1.0, peak_rss_mib=10.0, packages_compiled=3)


# ----------------------------------------------------------------------------- pins


def test_repository_pins_are_complete() -> None:
    real = load(pins.PINS_FILE)
    for name in (
        "kubernetes",
        "etcd",
        "helm",
        "conftest",
        "opa",
        "opentofu",
        "metrics-server",
        "coredns",
        "kubeconform",
        "actionlint",
        "shellcheck",
    ):
        assert name in real.tools
    kube = real.tools["kubernetes"]
    assert kube.version == "v1.34.4" and kube.local_replace_version == "v0.34.4"
    assert {b.name for b in kube.binaries} == {
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "kubectl",
    }
    assert real.find("kubectl")[1][0].version_args == ("version", "--client", "-o", "json")
    assert real.find("tofu")[0].name == "opentofu"
    assert real.tools["etcd"].version.startswith("v3.6.")


def test_unknown_tool_names_the_known_ones(env: Path) -> None:
    with pytest.raises(PlatformError, match=r"unknown tool 'nope'.*fakectl"):
        load().find("nope")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'module = "m"\nbinaries = { x = "m/x" }\nversion_args = []\nversion_regex = "(.*)"',
            "'version' must be",
        ),
        (
            'version = "1"\nsource = "brew"\nversion_regex = "(.*)"\nbinaries = { x = "" }',
            "source must be",
        ),
        (
            'version = "1"\nmodule = "m"\nversion_regex = "(("\nbinaries = { x = "m/x" }',
            "does not compile",
        ),
        (
            'version = "1"\nmodule = "m"\nversion_regex = "(.*)"\nbinaries = { x = "" }',
            "needs its main package",
        ),
        (
            'version = "1"\nmodule = "m"\nversion_regex = "(.*)"\n'
            'binaries = { x = { package = "m/x", version_from = "label" } }',
            "version_from must be one of run, buildinfo",
        ),
    ],
)
def test_bad_pins_are_one_clear_error(tmp_path: Path, entry: str, message: str) -> None:
    bad = tmp_path / "toolchain.toml"
    bad.write_text(f"[tools.x]\n{entry}\n")
    with pytest.raises(PlatformError, match=message):
        load(bad)


def test_fingerprint_changes_with_the_pin(env: Path) -> None:
    a = load().tools["solo"]
    (env / "toolchain.toml").write_text(PINS.replace("-X main.version={version}", "-s"))
    assert load().tools["solo"].fingerprint != a.fingerprint


def test_version_from_buildinfo_reads_go_version_m(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon without a version flag: the version comes from its Go build info."""
    daemon = script(tmp_path / "daemon", "exit 3")  # would fail if it were run
    go = script(
        tmp_path / "go",
        f'[ "$1 $2 $3" = "version -m {daemon}" ] || exit 1\n'
        "printf '%s: go1.26.8\\n\\tpath\\tx\\n\\tdep\\tgithub.com/kedacore/keda/v2\\t"
        'v2.21.0\\th1:abc=\\n\' "$3"',
    )
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    regex = r"(?:mod|dep)\s+github\.com/kedacore/keda/v2\s+(v\S+)"
    binary = pins.Binary("daemon", "m/daemon", (), regex, version_from="buildinfo")
    assert resolver.reported_version(daemon, binary) == "v2.21.0"
    assert resolver.reported_version(daemon, pins.Binary("daemon", "m", (), regex)) is None


def test_the_keda_pin_reads_its_version_from_the_build_info() -> None:
    tool = load(pins.PINS_FILE).tools["keda"]
    assert {b.name: b.version_from for b in tool.binaries} == {
        "keda-operator": "buildinfo",
        "keda-adapter": "buildinfo",
    }
    assert "-X github.com/kedacore/keda/v2/version.Version={version_nov}" in tool.ldflags


# -------------------------------------------------------------------- resolution order


def test_path_binary_of_the_pinned_version_wins(env: Path) -> None:
    script(env / "bin" / "solo", 'echo "v0.8.0"')
    builder = FakeBuilder()
    (res,) = Resolver(builder=builder).resolve_tool("solo")
    assert (res.source, res.path) == ("PATH", env / "bin" / "solo")
    assert builder.calls == []


def test_wrong_version_on_path_is_skipped_reported_and_built(env: Path) -> None:
    script(env / "bin" / "fakectl", 'echo "gitVersion: v1.32.4-dispatcher"')
    builder = FakeBuilder()
    path = Resolver(builder=builder).resolve("fakectl")
    assert path == env / "cache" / "tools" / "fakekube" / "v1.34.4" / "bin" / "fakectl"
    assert builder.calls == ["fakekube"]
    (res,) = Resolver(builder=builder).resolve_tool("fakekube", binaries=load().find("fakectl")[1])
    assert res.source == "cache" and builder.calls == ["fakekube"]
    assert res.skipped == (f"{env / 'bin' / 'fakectl'} reports v1.32.4-dispatcher, pinned v1.34.4",)


def test_one_build_provides_every_binary_of_a_tool(env: Path) -> None:
    builder = FakeBuilder()
    results = Resolver(builder=builder).resolve_tool("fakekube")
    assert [r.source for r in results] == ["built now", "built now"]
    assert Resolver(builder=builder).resolve("fake-apiserver").name == "fake-apiserver"
    assert builder.calls == ["fakekube"]
    manifest = json.loads((env / "cache/tools/fakekube/v1.34.4/toolchain.json").read_text())
    assert manifest["binaries"] == ["fake-apiserver", "fakectl"]
    assert (env / "cache/tools/fakekube/v1.34.4/build.log").read_text().count("compiling") == 1


def test_tool_with_several_binaries_needs_a_binary_name(env: Path) -> None:
    with pytest.raises(PlatformError, match="several binaries"):
        Resolver(builder=FakeBuilder()).resolve("fakekube")


def test_no_build_says_how_to_provision(env: Path) -> None:
    script(env / "bin" / "solo", 'echo "v0.7.0"')
    with pytest.raises(PlatformError, match=r"reports v0.7.0, pinned v0.8.0.*nox -s tools -- solo"):
        Resolver(build=False, builder=FakeBuilder()).resolve("solo")


def test_path_versions_are_asked_once_per_file(env: Path) -> None:
    counter = env / "count"
    solo = script(env / "bin" / "solo", f'echo x >> {counter}; echo "v0.7.0"')
    builder = FakeBuilder()
    for _ in range(3):
        Resolver(builder=builder).resolve("solo")
    assert counter.read_text().count("x") == 1
    script(solo, f'echo x >> {counter}; echo "v0.8.0"')  # a new binary: asked again
    assert Resolver(builder=builder).resolve("solo") == solo
    assert counter.read_text().count("x") == 2


def test_own_cache_on_path_is_not_reported_as_path(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = FakeBuilder()
    cached = Resolver(builder=builder).resolve("solo")
    monkeypatch.setenv("PATH", f"{cached.parent}:/usr/bin:/bin")
    (res,) = Resolver(builder=builder).resolve_tool("solo")
    assert res.source == "cache"


# ------------------------------------------------------------------ safe installs


def test_failed_build_leaves_nothing_half_installed(env: Path) -> None:
    with pytest.raises(PlatformError, match="building solo failed"):
        Resolver(builder=FakeBuilder(fail=True)).resolve("solo")
    tooldir = env / "cache" / "tools" / "solo"
    assert [p.name for p in tooldir.iterdir()] == [".v0.8.0.lock"]
    assert "compiling" in (env / "cache/logs/tools/solo-v0.8.0.log").read_text()


def test_badly_stamped_binary_is_refused(env: Path) -> None:
    with pytest.raises(PlatformError, match=r"reports v0.0.0, not the pinned v0.8.0.*Log: "):
        Resolver(builder=FakeBuilder(reports="v0.0.0")).resolve("solo")
    assert not (env / "cache/tools/solo/v0.8.0").exists()


def test_changed_pin_rebuilds_and_swaps_the_cache(env: Path) -> None:
    builder = FakeBuilder()
    Resolver(builder=builder).resolve("solo")
    (env / "toolchain.toml").write_text(
        PINS.replace("-X main.version={version}", "-s -X x={version}")
    )
    (res,) = Resolver(builder=builder).resolve_tool("solo")
    assert res.source == "built now" and builder.calls == ["solo", "solo"]
    assert sorted(p.name for p in (env / "cache/tools/solo").iterdir()) == [
        ".v0.8.0.lock",
        "v0.8.0",
    ]


def test_stale_temp_dirs_of_killed_builds_are_removed(env: Path) -> None:
    stale = env / "cache/tools/solo/.tmp-v0.8.0-dead"
    stale.mkdir(parents=True)
    Resolver(builder=FakeBuilder()).resolve("solo")
    assert not stale.exists()


def test_concurrent_session_waits_on_the_lock_instead_of_building(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load().tools["solo"]
    lockfile = env / "cache/tools/solo/.v0.8.0.lock"
    lockfile.parent.mkdir(parents=True)
    other = FakeBuilder()
    mine = FakeBuilder()
    outcome: list[object] = []
    with lockfile.open("a") as held:  # "another session" is building
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: outcome.append(resolver.install(tool, mine)))
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive() and mine.calls == []
        # The other session finishes its build while holding the lock.
        vdir = resolver.version_dir(tool)
        other(tool, vdir / "bin", vdir, env / "log", "")
        (vdir / "toolchain.json").write_text(json.dumps({"fingerprint": tool.fingerprint}))
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(timeout=10)
    assert mine.calls == []
    assert outcome and outcome[0][1] == "cache"  # type: ignore[index]
    assert "waiting for another session that is building solo v0.8.0" in capsys.readouterr().err


def test_bin_dir_links_every_binary(env: Path) -> None:
    Resolver(builder=FakeBuilder()).resolve_tool("fakekube")
    Resolver(builder=FakeBuilder()).resolve_tool("solo")
    target = resolver.bin_dir(["fakekube", "solo"], build=False)
    assert sorted(p.name for p in target.iterdir()) == ["fake-apiserver", "fakectl", "solo"]
    assert (target / "fakectl").resolve() == (
        env / "cache/tools/fakekube/v1.34.4/bin/fakectl"
    ).resolve()


# ----------------------------------------------------------------------- Go builds

FAKE_GO = f"""#!{sys.executable}
import json, os, re, sys, time
from pathlib import Path
args = sys.argv[1:]
state = Path(os.environ["FAKE_GO_STATE"])
if args[:2] == ["env", "GOVERSION"]:
    print(os.environ.get("FAKE_GO_VERSION", "go1.26.8"))
elif args[:3] == ["mod", "download", "-json"]:
    mod, ver = args[3].split("@")
    gomod = state / "dl.mod"
    gomod.write_text("module " + mod)
    info = state / "dl.info"
    info.write_text(json.dumps({{"Version": ver, "Time": "2026-02-10T12:53:36Z",
                                "Origin": {{"Hash": "abc123"}}}}))
    print(json.dumps({{"Path": mod, "Version": ver, "GoMod": str(gomod), "Info": str(info)}}))
elif args[:3] == ["mod", "edit", "-json"]:
    print(json.dumps({{"Go": os.environ.get("FAKE_MOD_GO", "1.22"), "Require": [], "Replace": []}}))
elif args[:2] == ["mod", "tidy"]:
    pass
elif args[:2] == ["list", "-deps"]:
    print("fmt\\nexample.com/a\\nexample.com/b")
elif args[0] == "build":
    (state / "build-args.json").write_text(json.dumps(args))
    ld = args[args.index("-ldflags") + 1]
    out = Path(args[args.index("-o") + 1])
    version = re.search(r"main.version=(\\S+)", ld).group(1)
    for pkg in args[args.index("-o") + 2:]:
        print(pkg, flush=True)
        time.sleep(float(os.environ.get("FAKE_GO_SLEEP", "0")))
    if os.environ.get("FAKE_GO_FAIL"):
        print("pkg/x.go:1: undefined: y")
        sys.exit(1)
    for pkg in args[args.index("-o") + 2:]:
        name = pkg.rsplit("/", 1)[1]
        (out / name).write_text("#!/bin/sh\\necho '" + version + "'\\n")
else:
    sys.exit("fake go: unexpected " + " ".join(args))
"""


@pytest.fixture
def fake_go(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    go = env / "go" / "go"
    go.parent.mkdir()
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    (env / "gostate").mkdir()
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.setenv("FAKE_GO_STATE", str(env / "gostate"))
    return go


def test_go_build_through_the_cli(
    fake_go: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tools", "solo"]) == 0
    out = capsys.readouterr()
    assert "[1/1] building solo v0.8.0 (solo)" in out.err
    assert "built now" in out.out and "resolved 1 binaries of 1 tools" in out.out
    args = json.loads((env / "gostate" / "build-args.json").read_text())
    assert args[:3] == ["build", "-v", "-trimpath"]
    assert "-X main.version=v0.8.0" in args[args.index("-ldflags") + 1]
    assert cli.main(["tools", "solo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {t["binary"]: t["source"] for t in data["tools"]}["solo"] == "cache"
    assert cli.main(["tools", "path", "solo"]) == 0
    assert capsys.readouterr().out.strip().endswith("tools/solo/v0.8.0/bin/solo")


def test_failed_go_build_names_its_log(
    fake_go: Path, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_GO_FAIL", "1")
    assert cli.main(["tools", "solo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    log = env / "cache/logs/tools/solo-v0.8.0.log"
    assert err == (
        f"error: building solo v0.8.0 failed (go build exit 1). "
        f"read the end of the build log. Log: {log}"
    )
    assert "undefined: y" in log.read_text()
    assert not (env / "cache/tools/solo/v0.8.0").exists()


def test_go_missing_or_too_old(env: Path, monkeypatch: pytest.MonkeyPatch, fake_go: Path) -> None:
    monkeypatch.setenv("FAKE_GO_VERSION", "go1.21.3")
    with pytest.raises(PlatformError, match=r"needs Go 1.22 or newer, and '.*go' is go1.21.3"):
        Resolver().resolve("solo")
    monkeypatch.setenv("FAKE_GO_VERSION", "go1.23.0")
    monkeypatch.setenv("FAKE_MOD_GO", "1.25.0")
    with pytest.raises(PlatformError, match=r"example.com/solo@v0.8.0 needs Go 1.25.0"):
        Resolver().resolve("solo")
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(env / "no-such-go"))
    with pytest.raises(PlatformError, match=r"needs Go, but .* does not run"):
        Resolver().resolve("solo")
    monkeypatch.delenv("HELLO_PLATFORM_GO")
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    with pytest.raises(PlatformError, match="needs Go, which was not found"):
        Resolver().resolve("solo")


def test_heartbeat_shows_progress_while_go_builds(
    fake_go: Path, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(gobuild, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setenv("FAKE_GO_SLEEP", "0.3")
    Resolver().resolve("solo")
    assert "packages compiled, log: " in capsys.readouterr().err


def test_wrapper_module_maps_local_replaces_to_releases(env: Path) -> None:
    tool = load().tools["fakekube"]
    modfile = {
        "Go": "1.24.0",
        "Godebug": [{"Key": "default", "Value": "go1.24"}],
        "Require": [{"Path": "k8s.io/api", "Version": "v0.0.0"}],
        "Replace": [
            {"Old": {"Path": "k8s.io/api"}, "New": {"Path": "./staging/src/k8s.io/api"}},
            {"Old": {"Path": "k8s.io/sample"}, "New": {"Path": "./staging/src/k8s.io/sample"}},
            {
                "Old": {"Path": "github.com/x/y", "Version": "v1.0.0"},
                "New": {"Path": "github.com/fork/y", "Version": "v1.0.1"},
            },
        ],
    }
    text = gobuild.wrapper_gomod(tool, [modfile, modfile])
    assert "go 1.24.0\n" in text and "godebug default=go1.24\n" in text
    assert "require example.com/fakekube v1.34.4\n" in text
    assert text.count("replace k8s.io/api => k8s.io/api v0.34.4\n") == 1
    assert "k8s.io/sample" not in text  # a guard replace of a module nothing requires
    assert "replace github.com/x/y v1.0.0 => github.com/fork/y v1.0.1\n" in text
    assert '_ "example.com/fakekube/cmd/fakectl"' in gobuild.tools_go(
        [b.package for b in tool.binaries]
    )


def test_ldflags_and_binary_names() -> None:
    tool = Tool(
        name="t",
        version="v1.2.3",
        source="go",
        binaries=(),
        ldflags=(
            "-s",
            "-X a.v={version}",
            "-X a.n={version_nov}",
            "-X a.c={commit}",
            "-X 'a.f=built by me'",
            "-X a.g=two words",
        ),
    )
    assert gobuild.ldflags_string(tool, commit="c0ffee", date="d") == (
        "-s -X a.v=v1.2.3 -X a.n=1.2.3 -X a.c=c0ffee -X 'a.f=built by me' -X 'a.g=two words'"
    )
    assert gobuild.default_binary_name("go.etcd.io/etcd/server/v3") == "server"
    assert gobuild.default_binary_name("k8s.io/kubernetes/cmd/kubectl") == "kubectl"
    assert gobuild.version_tuple("go1.26.8") == (1, 26, 8)
    assert gobuild.version_tuple("1.24") < gobuild.version_tuple("go1.24.0") <= (1, 26, 8)
    assert gobuild.version_tuple("devel") == ()


def test_cli_rejects_bad_path_usage(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tools", "path"]) == 2
    assert "takes exactly one NAME" in capsys.readouterr().err
    assert cli.main(["tools", "bogus"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown tool 'bogus'")


def test_wrong_path_binary_and_no_go_is_one_sentence(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script(env / "bin" / "fakectl", 'echo "gitVersion: v1.32.4-dispatcher"')
    monkeypatch.setattr(gobuild, "find_go", lambda: None)
    assert cli.main(["tools", "path", "fakectl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: {env / 'bin' / 'fakectl'} reports v1.32.4-dispatcher, pinned ")
    assert "and building fakekube v1.34.4 from source needs Go, which was not found" in err
    assert err.endswith("or put fakectl v1.34.4 on PATH.")


def test_pseudo_version_pins_the_commit_but_caches_by_release(env: Path) -> None:
    text = PINS.replace(
        'module = "example.com/solo"',
        'module = "example.com/solo"\nmodule_version = "v0.0.0-20250101000000-0123456789ab"',
    )
    (env / "toolchain.toml").write_text(text)
    tool = load().tools["solo"]
    gomod = gobuild.wrapper_gomod(tool, [{"Go": "1.24"}])
    assert "require example.com/solo v0.0.0-20250101000000-0123456789ab\n" in gomod
    assert resolver.version_dir(tool) == env / "cache/tools/solo/v0.8.0"


def test_tool_named_like_one_of_its_binaries_resolves_to_that_binary(env: Path) -> None:
    (env / "toolchain.toml").write_text(PINS.replace("fake-apiserver =", "fakekube ="))
    path = Resolver(builder=FakeBuilder()).resolve("fakekube")
    assert path == env / "cache/tools/fakekube/v1.34.4/bin/fakekube"


# -------------------------------------------------------------------- GOTOOLCHAIN

#: A distribution go 1.23.5 that switches to the toolchain GOTOOLCHAIN names (go >= 1.21).
SWITCHING_GO = """\
case "$GOTOOLCHAIN" in
  local|auto|"") echo go1.23.5 ;;
  go*) echo "${GOTOOLCHAIN%%+*}" ;;
esac
"""


def test_the_users_gotoolchain_is_respected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = script(tmp_path / "go", SWITCHING_GO)
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.setenv("GOTOOLCHAIN", "go1.26.8")
    assert gobuild.check_go("1.26.8", needed_for="x") == (str(go), "go1.26.8")
    assert gobuild.go_env()["GOTOOLCHAIN"] == "go1.26.8"


def test_without_gotoolchain_the_local_go_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = script(tmp_path / "go", SWITCHING_GO)
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.delenv("GOTOOLCHAIN", raising=False)
    assert gobuild.go_env()["GOTOOLCHAIN"] == "local"
    with pytest.raises(PlatformError, match=r"needs Go 1.26.8 or newer, and '.*' is go1.23.5"):
        gobuild.check_go("1.26.8", needed_for="x")


def test_a_go_too_old_to_switch_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go = script(tmp_path / "go", "echo go1.19.8")  # Debian 12's golang-go ignores GOTOOLCHAIN
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.setenv("GOTOOLCHAIN", "go1.26.8")
    with pytest.raises(
        PlatformError, match=r"is go1.19.8 \(GOTOOLCHAIN=go1.26.8 needs a go of 1.21"
    ):
        gobuild.check_go("1.26.8", needed_for="x")


def test_a_tools_pinned_toolchain_wins_over_the_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = script(tmp_path / "go", SWITCHING_GO)
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.setenv("GOTOOLCHAIN", "go1.26.8")
    assert gobuild.check_go("1.26.8", needed_for="x", pinned="go1.27.3") == (str(go), "go1.27.3")
    assert gobuild.go_env(pinned="go1.27.3")["GOTOOLCHAIN"] == "go1.27.3"
    assert gobuild.go_env()["GOTOOLCHAIN"] == "go1.26.8"  # the other tools keep the user's


def test_go_toolchain_is_read_per_tool_and_checked(env: Path) -> None:
    text = PINS.replace(
        'module = "example.com/solo"', 'module = "example.com/solo"\ngo_toolchain = "go1.27.3"'
    )
    (env / "toolchain.toml").write_text(text)
    tools = load().tools
    assert (tools["solo"].go_toolchain, tools["fakekube"].go_toolchain) == ("go1.27.3", "")
    (env / "toolchain.toml").write_text(text.replace('"go1.27.3"', '"latest"'))
    with pytest.raises(PlatformError, match=r"\[tools.solo\]: go_toolchain must name a Go release"):
        load()


def test_the_pinned_argo_rollouts_builds_with_the_approved_toolchain() -> None:
    tool = load().tools["argo-rollouts"]
    assert tool.go_toolchain == "go1.27.3"
    assert {b.name for b in tool.binaries} == {"rollouts-controller", "kubectl-argo-rollouts"}
