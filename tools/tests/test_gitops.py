"""The GitOps glue without a cluster: core-install render, images, app-of-apps manifests,
Application status parsing, the release's values, and the mirror's git operations
(on a local bare repository)."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline import helm, notify
from hello_platform.pipeline.gitops import (
    argo,
    gitserver,
    lifecycle,
    manifests,
    release,
)
from hello_platform.pipeline.gitops import images as gitops_images
from hello_platform.substrate.cluster import images

ARGOCD_DIR = REPO_ROOT / "deploy" / "argocd"
IMAGES = {"argocd": "127.0.0.1:5000/a@sha256:" + "1" * 64, "redis": "127.0.0.1:5000/r@sha256:2"}


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return manifests.render(manifests.upstream_install(), IMAGES)


def _by(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_every_namespaced_object_goes_to_argocd(rendered: list[dict[str, Any]]) -> None:
    for doc in rendered:
        if doc["kind"] not in manifests.CLUSTER_KINDS:
            assert doc["metadata"]["namespace"] == "argocd", doc["metadata"]["name"]


def test_core_install_uses_only_our_images(rendered: list[dict[str, Any]]) -> None:
    images = {
        str(c["image"])
        for d in rendered
        if d.get("kind") in ("Deployment", "StatefulSet")
        for c in manifests._containers(d)
    }
    assert images == set(IMAGES.values())


def test_core_install_has_no_applicationset_controller_nor_copyutil(
    rendered: list[dict[str, Any]],
) -> None:
    names = {(d["kind"], d["metadata"]["name"]) for d in rendered}
    assert ("Deployment", "argocd-applicationset-controller") not in names
    repo = _by(rendered, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"]
    assert "initContainers" not in repo
    env = {e["name"]: e.get("value") for e in repo["containers"][0]["env"]}
    assert env["ARGOCD_GPG_ENABLED"] == "false"


def test_core_install_lowers_reconciliation_and_enforces_restricted(
    rendered: list[dict[str, Any]],
) -> None:
    cm = _by(rendered, "ConfigMap", "argocd-cm")
    assert cm["data"]["timeout.reconciliation"] == manifests.RECONCILIATION
    params = _by(rendered, "ConfigMap", "argocd-cmd-params-cm")["data"]
    assert params["controller.repo.error.grace.period.seconds"] == "15s"
    ns = _by(rendered, "Namespace", "argocd")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_config_change_rolls_the_pods(monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = manifests.upstream_core_install()

    def hashes(docs: list[dict[str, Any]]) -> set[str]:
        return {
            d["spec"]["template"]["metadata"]["annotations"][manifests.CONFIG_ANNOTATION]
            for d in docs
            if d["kind"] in ("Deployment", "StatefulSet")
        }

    before = hashes(manifests.render(upstream, IMAGES))
    monkeypatch.setitem(manifests.CONFIG["argocd-cm"], "timeout.reconciliation", "11s")
    after = hashes(manifests.render(upstream, IMAGES))
    assert len(before) == len(after) == 1
    assert before != after


def test_redis_runs_our_miniredis_with_its_password(rendered: list[dict[str, Any]]) -> None:
    pod = _by(rendered, "Deployment", "argocd-redis")["spec"]["template"]["spec"]
    redis = pod["containers"][0]
    assert redis["args"] == ["--addr=:6379"]
    assert {e["name"] for e in redis["env"]} == {"REDIS_PASSWORD"}
    assert pod["securityContext"]["runAsUser"] == 999


def test_a_changed_upstream_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "core-install.yaml").write_text("kind: Tampered\n")
    monkeypatch.setattr(manifests, "module_dir", lambda module, version: tmp_path)
    with pytest.raises(PlatformError, match="not the pinned"):
        manifests.upstream_core_install()


def test_the_notifications_controller_runs_our_image_with_our_config(
    rendered: list[dict[str, Any]],
) -> None:
    deployment = _by(rendered, "Deployment", manifests.NOTIFICATIONS_CONTROLLER)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["/usr/local/bin/argocd-notifications"]
    assert container["image"] == IMAGES["argocd"]
    assert "argocd-notifications" in gitops_images.ARGOCD_NAMES
    # The operator's Secret holds the webhook URL: the install never applies one.
    assert not [d for d in rendered if d["kind"] == "Secret" and "notif" in d["metadata"]["name"]]
    data = _by(rendered, "ConfigMap", manifests.NOTIFICATIONS_CONFIGMAP)["data"]
    assert yaml.safe_load(data["service.webhook.chat"])["url"] == f"${notify.SECRET_KEY}"
    assert notify.SECRET_NAME == manifests.NOTIFICATIONS_SECRET


def test_the_local_app_subscribes_to_triggers_with_chat_templates() -> None:
    data = manifests.notifications_config()
    (app,) = _docs(ARGOCD_DIR / "apps" / "hello-local.yaml")
    prefix, suffix = "notifications.argoproj.io/subscribe.", ".chat"
    subscribed = [
        k.removeprefix(prefix).removesuffix(suffix)
        for k in app["metadata"]["annotations"]
        if k.startswith(prefix) and k.endswith(suffix)
    ]
    assert sorted(subscribed) == ["on-deployed", "on-health-degraded", "on-sync-failed"]
    for trigger in [*subscribed, "on-sync-succeeded"]:
        for condition in yaml.safe_load(data[f"trigger.{trigger}"]):
            for template in condition["send"]:
                chat = yaml.safe_load(data[f"template.{template}"])["webhook"]["chat"]
                assert chat["method"] == "POST"
                assert '{"text": {{ toJson $text }}, "blocks": [' in chat["body"]


def test_a_changed_notifications_base_is_refused(tmp_path: Path) -> None:
    base = tmp_path / manifests.NOTIFICATIONS_BASE
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (base / "cm.yaml").write_text("kind: Tampered\n")
    with pytest.raises(PlatformError, match="not the pinned"):
        manifests.upstream_notifications(tmp_path)


def _layer_members(layer: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_multi_file_image_has_links_extras_and_no_entrypoint(tmp_path: Path) -> None:
    lib = tmp_path / "libx.so"
    lib.write_bytes(b"lib")
    spec = images.ImageSpec(
        "multi",
        lambda: tmp_path / "main",
        (),
        binary_path="/usr/local/bin/main",
        cmd=("main",),
        extra=lambda: {"/lib/libx.so": lib},
        symlinks=(("/usr/local/bin/alias", "main"),),
        env=("PATH=/usr/local/bin",),
    )
    layer, config, _ = images.image_blobs(spec, b"\x7fELF")
    members = _layer_members(layer)
    assert members["usr/local/bin/main"].mode == 0o755
    assert members["lib/libx.so"].mode == 0o644
    assert members["usr/local/bin/alias"].issym()
    assert members["usr/local/bin/alias"].linkname == "main"
    cfg = json.loads(config)["config"]
    assert "Entrypoint" not in cfg
    assert cfg["Cmd"] == ["main"]
    binary = tmp_path / "main"
    binary.write_bytes(b"\x7fELF")
    before = images.tag_for(binary, spec)
    lib.write_bytes(b"lib2")
    assert images.tag_for(binary, spec) != before


def test_shared_libraries_of_git_include_libc() -> None:
    libs = images.shared_libraries(Path("/usr/bin/git"))
    assert any("libc.so" in k for k in libs)
    assert all(p.is_file() for p in libs.values())


def test_argocd_image_links_every_component_to_the_one_binary() -> None:
    links = dict(gitops_images.ARGOCD.symlinks)
    assert links["/usr/local/bin/argocd-repo-server"] == "argocd"
    assert links["/usr/local/bin/argocd-application-controller"] == "argocd"
    assert gitops_images.ARGOCD.user == "999:999"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _apps() -> list[dict[str, Any]]:
    docs = [d for p in sorted((ARGOCD_DIR / "apps").glob("*.yaml")) for d in _docs(p)]
    return docs + _docs(ARGOCD_DIR / "bootstrap" / "root.yaml")


def test_applications_live_in_argocd_and_pin_a_branch_of_the_mirror() -> None:
    apps = _apps()
    assert {a["metadata"]["name"] for a in apps} >= {"hello-platform-root", "hello-local"}
    for app in apps:
        assert app["metadata"]["namespace"] == "argocd"
        src = app["spec"]["source"]
        assert src["repoURL"] == gitserver.URL
        assert src["targetRevision"] not in ("HEAD", "", "main")
        assert src["targetRevision"].startswith("gitops/")
        auto = app["spec"]["syncPolicy"]["automated"]
        assert auto == {"prune": True, "selfHeal": True}


def test_project_restricts_sources_and_destinations_to_what_the_apps_use() -> None:
    (project,) = _docs(ARGOCD_DIR / "bootstrap" / "project.yaml")
    assert project["spec"]["sourceRepos"] == [gitserver.URL]
    allowed = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    assert "*" not in {n for _, n in allowed}
    for app in _apps():
        dest = app["spec"]["destination"]
        assert (dest["server"], dest["namespace"]) in allowed
        assert app["spec"]["project"] == project["metadata"]["name"]


def test_env_profile_renders_against_the_chart_schema() -> None:
    (app,) = _docs(ARGOCD_DIR / "apps" / "hello-local.yaml")
    chart = REPO_ROOT / app["spec"]["source"]["path"]
    files = [(chart / v).resolve() for v in app["spec"]["source"]["helm"]["valueFiles"]]
    assert all(f.is_file() for f in files)
    svc = release.env_service("local")
    assert svc.chart == chart
    out = helm.render(helm.helm_binary(), svc, values_files=files, sets=["image.tag=t1"])
    docs = [d for d in yaml.safe_load_all(out) if d]
    svc = next(d for d in docs if d["kind"] == "Service")
    assert svc["spec"]["ports"][0]["nodePort"] == 30081
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    assert deploy["spec"]["replicas"] == 1


def test_parse_app_surfaces_the_reason_of_a_broken_app() -> None:
    doc = {
        "metadata": {"name": "broken"},
        "spec": {"source": {"targetRevision": "gitops/local", "path": "nope"}},
        "status": {
            "sync": {"status": "Unknown", "revision": "abc"},
            "health": {"status": "Healthy"},
            "conditions": [{"type": "ComparisonError", "message": "app path does not\nexist"}],
            "history": [{"deployedAt": "2026-12-02T12:00:00Z", "revision": "abc", "id": 0}],
        },
    }
    app = argo.parse_app(doc)
    assert not app.ok
    assert app.reason == "ComparisonError: app path does not exist"
    text = lifecycle.format_status([app])
    assert "reason: ComparisonError" in text
    assert "synced abc" in text


def test_parse_app_of_a_synced_app_is_ok() -> None:
    doc = {
        "metadata": {"name": "ok"},
        "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}},
    }
    assert argo.parse_app(doc).ok
    assert argo.all_ok(["ok"])([argo.parse_app(doc)])
    assert not argo.all_ok(["ok", "other"])([argo.parse_app(doc)])
    assert not argo.all_ok(["ok"], "abc")([argo.parse_app(doc)])
    assert not argo.all_ok(["ok"], lambda: "abc")([argo.parse_app(doc)])


class _Img:
    registry = "127.0.0.1:5000"
    repository = "hello"
    tag = "0.1.0-abcdef1"
    digest: str | None = "sha256:" + "a" * 64


def test_image_yaml_round_trips_and_validates_against_the_schema() -> None:
    text = release.image_yaml(_Img())
    assert release.current_image(text) == {
        "repository": "127.0.0.1:5000/hello",
        "tag": _Img.tag,
        "digest": _Img.digest,
    }
    assert release.current_image((ARGOCD_DIR / "envs" / "local" / "image.yaml").read_text()) == {}


def test_an_unpushed_image_cannot_be_released() -> None:
    img = _Img()
    img.digest = None
    with pytest.raises(PlatformError, match="not pushed"):
        release.image_yaml(img)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_wait_serving_waits_until_only_the_new_revision_answers() -> None:
    # old, new, old (the old pod still answers during the rollout), then new for good.
    seq = ["old", "new", "old"] + ["new"] * 10
    answers = iter([(200, json.dumps({"revision": r}).encode()) for r in seq])

    def get(url: str) -> tuple[int, bytes]:
        return (200, b"hi") if url.endswith("/") else next(answers)

    clock = _Clock()
    took = release.wait_serving(
        "http://127.0.0.1:1", "new", timeout=60, get=get, poll=0, stable=3, clock=clock
    )
    assert took == 4.0  # the streak began with the 4th answer


def test_wait_serving_gives_up_with_what_it_saw() -> None:
    def get(url: str) -> tuple[int, bytes]:
        return 200, b'{"revision": "old"}'

    with pytest.raises(PlatformError, match="serves old"):
        release.wait_serving("http://127.0.0.1:1", "new", timeout=0.2, get=get, poll=0.05)


@pytest.fixture
def bare(tmp_path: Path) -> str:
    repo = tmp_path / "src"
    gitserver.git("init", "--quiet", "-b", "gitops/local", str(repo))
    (repo / "a.txt").write_text("one\n")
    gitserver.git("-C", str(repo), "add", "a.txt")
    gitserver.git("-C", str(repo), "commit", "--quiet", "-m", "first")
    mirror = tmp_path / "mirror.git"
    gitserver.git("clone", "--quiet", "--bare", str(repo), str(mirror))
    return str(mirror)


def test_commit_revert_and_history_on_the_env_branch(bare: str) -> None:
    branch = "gitops/local"
    first = gitserver.remote_ref(branch, bare)
    change = gitserver.commit_files(branch, {"a.txt": "two\n"}, "change a", url=bare)
    assert change != first
    assert gitserver.read_file(branch, "a.txt", url=bare) == "two\n"
    same = gitserver.commit_files(branch, {"a.txt": "two\n"}, "no-op", url=bare)
    assert same == change
    gitserver.revert(branch, change, url=bare)
    assert gitserver.read_file(branch, "a.txt", url=bare) == "one\n"
    log = gitserver.log(branch, url=bare)
    assert len(log) == 3
    assert "Revert" in log[0]


def test_daemon_listens_on_the_bridge_only_and_is_read_only() -> None:
    argv = gitserver.daemon_argv(Path("/srv"))
    assert "--listen=10.244.0.1" in argv
    assert "--forbid-override=receive-pack" in argv
    assert not any(a.startswith("--enable") for a in argv)


def test_a_git_failure_is_one_sentence(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.git")
    with (
        pytest.raises(PlatformError, match="cloning gitops/local failed"),
        gitserver.checkout("gitops/local", missing),
    ):
        pass


def test_redis_source_pins_the_miniredis_of_argo_cd() -> None:
    gomod = (gitops_images.REDIS_SOURCE / "go.mod").read_text()
    argo_gomod = subprocess.run(
        ["go", "mod", "download", "-json", "github.com/argoproj/argo-cd/v3@v3.2.11"],
        capture_output=True,
        text=True,
        check=True,
    )
    upstream = Path(json.loads(argo_gomod.stdout)["GoMod"]).read_text()
    line = next(x.split()[1] for x in upstream.splitlines() if "alicebob/miniredis/v2 " in x)
    assert f"github.com/alicebob/miniredis/v2 {line}" in gomod


def test_credentials_never_reach_the_output() -> None:
    url = "https://x-access-token:s3cr3t@github.com/o/r.git"
    assert gitserver.redact(url) == "https://github.com/o/r.git"


def test_up_waits_for_the_node_port_only_on_the_embedded_cluster(tmp_path: Path) -> None:
    from hello_platform.substrate.cluster.layout import Layout

    assert lifecycle.is_embedded(Layout.default().admin_kubeconfig)
    assert not lifecycle.is_embedded(tmp_path / "eks.kubeconfig")


def test_wait_answering_retries_until_the_node_port_answers() -> None:
    answers = iter([0, 0, 200, 200])
    calls: list[str] = []

    def get(url: str) -> tuple[int, bytes]:
        calls.append(url)
        return next(answers), b'{"revision": "abc"}'

    lifecycle.wait_answering("http://127.0.0.1:30081", timeout=5, get=get)
    assert calls[-2:] == ["http://127.0.0.1:30081/", "http://127.0.0.1:30081/version"]


def test_wait_answering_fails_with_one_sentence_when_nothing_answers() -> None:
    with pytest.raises(PlatformError, match="failed: / answered nothing"):
        lifecycle.wait_answering("http://127.0.0.1:30081", timeout=0.5, get=lambda _: (0, b""))


def test_status_and_down_never_start_the_embedded_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from hello_platform.substrate import cluster
    from hello_platform.substrate.cluster import node

    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path))
    monkeypatch.setattr(cluster, "ensure_up", lambda: pytest.fail("status started the cluster"))
    monkeypatch.setattr(node, "is_up", lambda lay: False)
    for command in ("status", "down"):
        with pytest.raises(PlatformError, match=f"gitops -- {command} needs the embedded cluster"):
            lifecycle.cluster(None, command, start=False)
    assert lifecycle.cluster(str(tmp_path / "k"), "status", start=False) == tmp_path / "k"
