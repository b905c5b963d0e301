"""``hello_platform.pipeline.deploy`` against a fake helm program and a fake API server.

The fake helm is a small Python script that logs its argv and keeps the release's revision
in a JSON state file, so the real subprocess wiring (flags, values order, KUBECONFIG) is
what is tested; the API server is an in-process transport of the one Kubernetes client
that logs into the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from hello_platform import cli
from hello_platform.clients.kube import Kube
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import deploy, helm
from hello_platform.pipeline.deploy import cli as deploy_cli

FAKE_HELM = """\
import json, os, sys
state_file = os.environ["FAKE_STATE"]
state = json.load(open(state_file))
args = sys.argv[1:]
state["calls"].append(["helm", *args])
def save():
    json.dump(state, open(state_file, "w"))
cmd = args[0]
if cmd == "template":
    save()
    if state.get("template_fail"):
        print("Error: values don't meet the specifications of the schema(s) in the following "
              "chart(s):", file=sys.stderr)
        print("hello:", file=sys.stderr)
        print("- at '': additional properties 'iamge' not allowed", file=sys.stderr)
        sys.exit(1)
    print("kind: Deployment")
elif cmd == "upgrade" and "--help" in args:
    save()
    print("      --atomic   if set ..." + ("\\n --rollback-on-failure" if state.get("v4") else ""))
elif cmd == "status":
    save()
    if not state.get("revision"):
        print("Error: release: not found", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"version": state["revision"], "info": {"status": "deployed"}}))
elif cmd == "upgrade":
    state["kubeconfig_env"] = os.environ.get("KUBECONFIG")
    if state.get("upgrade_fail"):
        if not state.get("revision"):
            save()
            print("Error: INSTALLATION FAILED: release hello failed, and has been uninstalled "
                  "due to atomic being set: context deadline exceeded", file=sys.stderr)
            sys.exit(1)
        if state.get("lose_cluster"):
            state["revision"] = 0
        else:
            state["revision"] += 2  # the failed revision, then the rollback
        save()
        print("Error: UPGRADE FAILED: release hello failed, and has been rolled back due to "
              "atomic being set: context deadline exceeded", file=sys.stderr)
        sys.exit(1)
    state["revision"] = state.get("revision", 0) + 1
    save()
elif cmd == "test":
    save()
    if state.get("test_fail"):
        print("Error: pod hello-test-http failed", file=sys.stderr)
        sys.exit(1)
    print("Phase: Succeeded")
else:
    save()
    sys.exit(3)
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- {name: local, cluster: {server: "https://local.test", insecure-skip-tls-verify: true}}
- {name: prod, cluster: {server: "https://prod.test", insecure-skip-tls-verify: true}}
users: [{name: u, user: {token: t}}]
contexts:
- {name: local, context: {cluster: local, user: u}}
- {name: prod, context: {cluster: prod, user: u}}
current-context: local
"""


class FakeApi:
    """The API server, in process: it records each request into the same call log as the
    fake helm (so their order is tested) and plays the namespace, the Service and /version."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file

    def __call__(self, request: httpx.Request) -> httpx.Response:
        state = json.loads(self.state_file.read_text())
        path = request.url.path
        state["calls"].append(["api", request.method, path, request.url.host])
        self.state_file.write_text(json.dumps(state))
        if state.get("unreachable"):
            raise httpx.ConnectError("The connection to the server was refused")
        if path == "/version":
            return httpx.Response(200, json={"gitVersion": "v1.34.4"})
        if request.method == "PATCH":
            doc = json.loads(request.content)
            state["applied"] = doc
            self.state_file.write_text(json.dumps(state))
            return httpx.Response(200, json=doc)
        if "/services/" in path:
            spec = {
                "type": state.get("svc_type", "NodePort"),
                "ports": [{"port": 80, "nodePort": 30080}],
            }
            return httpx.Response(
                200,
                json={
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "hello"},
                    "spec": spec,
                },
            )
        return httpx.Response(404, json={"kind": "Status", "code": 404, "reason": "NotFound"})


@dataclass(frozen=True)
class FakeImage:
    registry: str = "127.0.0.1:5000"
    repository: str = "hello"
    tag: str = "0.1.0-abcdef1"
    digest: str | None = "sha256:" + "0" * 64

    @property
    def ref(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


class Env:
    """Fake tools + state, and the Deps the deploy gets."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.state_file = tmp / "state.json"
        self.state_file.write_text(json.dumps({"calls": []}))
        monkeypatch.setenv("FAKE_STATE", str(self.state_file))
        monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp / "cache"))
        monkeypatch.setattr(paths, "out_dir", lambda: tmp / "out")
        self.helm = self._script("helm", FAKE_HELM)
        self.kubectl = tmp / "kubectl"  # named in the printed commands only
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(KUBECONFIG)
        self.transport = httpx.MockTransport(FakeApi(self.state_file))
        self.built = 0
        self.cluster_started = 0
        self.requests: list[str] = []
        self.revision = "abcdef1234567"

    def _script(self, name: str, body: str) -> Path:
        path = self.tmp / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(0o755)
        return path

    def set(self, **kw: Any) -> None:
        state = self.state
        state.update(kw)
        self.state_file.write_text(json.dumps(state))

    @property
    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def calls(self, tool: str, cmd: str) -> list[list[str]]:
        return [c for c in self.state["calls"] if c[0] == tool and c[1] == cmd]

    def get(self, url: str) -> tuple[int, bytes]:
        self.requests.append(url)
        if url.endswith("/version"):
            body = {"service": "hello", "version": "0.1.0", "revision": self.revision}
            return 200, json.dumps(body).encode()
        return 200, b'{"message": "Hello"}'

    def deps(self) -> deploy.Deps:
        def build() -> deploy.Image:
            self.built += 1
            return FakeImage()

        def cluster() -> Path:
            self.cluster_started += 1
            return self.kubeconfig

        tools = {"helm": self.helm, "kubectl": self.kubectl}
        return deploy.Deps(
            resolve=tools.__getitem__,
            ensure_cluster=cluster,
            build_image=build,
            expected_revision=lambda image: "abcdef1234567",
            get=self.get,
            api=self.api,
        )

    def api(self, kubeconfig: Path, context: str | None) -> Kube:
        return Kube(kubeconfig, context, transport=self.transport)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    deploy_cli.add_arguments(parser)
    return parser.parse_args(argv)


# ------------------------------------------------------------------- the happy path


def test_deploy_builds_releases_tests_and_smokes_in_order(env: Env) -> None:
    extra = env.tmp / "mine.yaml"
    extra.write_text("app:\n  logLevel: debug\n")
    opts = deploy.options(parse("--values", str(extra), "--set", "autoscaling.maxReplicas=3"))
    result = deploy.deploy(opts, env.deps())

    assert env.cluster_started == 1 and env.built == 1
    cmds = [f"{c[1]} {c[2]}" if c[0] == "api" else c[1] for c in env.state["calls"]]
    # preflight render before anything else; namespace before the release; test after it.
    apply = "PATCH /api/v1/namespaces/hello"
    assert cmds.index("template") < cmds.index("GET /version") < cmds.index(apply)
    assert cmds.index(apply) < cmds.index("upgrade") < cmds.index("test")

    ns = env.state["applied"]
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == "hello"
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"

    (up,) = [c for c in env.calls("helm", "upgrade") if "--help" not in c]
    assert up[1:5] == ["upgrade", "--install", "hello", str(helm.CHART_DIR)]
    assert "--wait" in up and "--atomic" in up
    assert up[up.index("--timeout") + 1] == "300s"
    assert up[up.index("--namespace") + 1] == "hello"
    assert up[up.index("--kubeconfig") + 1] == str(env.kubeconfig)
    files = [up[i + 1] for i, a in enumerate(up) if a == "--values"]
    assert files[0] == str(helm.CHART_DIR / "values-local.yaml")
    assert files[1].endswith("image-values.json") and files[2] == str(extra)
    assert up.index("--set") > max(i for i, a in enumerate(up) if a == "--values")
    image_values = json.loads(Path(files[1]).read_text())
    assert image_values == {
        "image": {
            "repository": "127.0.0.1:5000/hello",
            "tag": "0.1.0-abcdef1",
            "digest": "sha256:" + "0" * 64,
        }
    }
    assert env.state["kubeconfig_env"] == str(env.kubeconfig)

    assert result.revision == 1
    assert result.url == "http://127.0.0.1:30080"
    assert env.requests == ["http://127.0.0.1:30080/", "http://127.0.0.1:30080/version"]
    assert result.version["revision"] == "abcdef1234567"
    assert {"image", "rollout", "total"} <= result.seconds.keys()
    text = deploy.how_to_reach(result, opts)
    assert "URL: http://127.0.0.1:30080/" in text and "port-forward" in text
    assert f"KUBECONFIG={env.kubeconfig} {result.kubectl} -n hello port-forward" in text


def test_an_existing_cluster_is_used_as_given(env: Env) -> None:
    opts = deploy.options(
        parse(
            "--kubeconfig",
            str(env.kubeconfig),
            "--context",
            "prod",
            "--profile",
            "eks",
            "--namespace",
            "web",
            "--no-test",
        )
    )
    env.set(svc_type="ClusterIP")
    result = deploy.deploy(opts, env.deps())
    assert env.cluster_started == 0
    (up,) = [c for c in env.calls("helm", "upgrade") if "--help" not in c]
    assert up[up.index("--kube-context") + 1] == "prod"
    assert str(helm.CHART_DIR / "values-eks.yaml") in up
    assert not env.calls("helm", "test")
    assert result.url is None and env.requests == []  # ClusterIP: nothing to smoke from here
    assert {c[3] for c in env.state["calls"] if c[0] == "api"} == {"prod.test"}


def test_a_given_image_is_released_without_a_build(env: Env) -> None:
    digest = "sha256:" + "f" * 64
    ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:0.1.0-abc1234@{digest}"
    result = deploy.deploy(deploy.options(parse("--image", ref)), env.deps())
    assert env.built == 0
    (up,) = [c for c in env.calls("helm", "upgrade") if "--help" not in c]
    files = [up[i + 1] for i, a in enumerate(up) if a == "--values"]
    assert json.loads(Path(files[1]).read_text())["image"] == {
        "repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello",
        "tag": "0.1.0-abc1234",
        "digest": digest,
    }
    assert result.image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:0.1.0-abc1234"


def test_no_node_port_smoke_on_a_cluster_that_is_not_this_machine(env: Env) -> None:
    result = deploy.deploy(deploy.options(parse("--kubeconfig", str(env.kubeconfig))), env.deps())
    assert result.url is None and env.requests == []
    assert not [c for c in env.state["calls"] if "service" in c]


def test_a_second_deploy_is_the_next_revision(env: Env) -> None:
    opts = deploy.options(parse())
    deploy.deploy(opts, env.deps())
    assert deploy.deploy(opts, env.deps()).revision == 2


def test_helm_4_gets_rollback_on_failure(env: Env) -> None:
    env.set(v4=True)
    assert deploy.rollback_flag(env.helm) == "--rollback-on-failure"
    env.set(v4=False)
    assert deploy.rollback_flag(env.helm) == "--atomic"


# ------------------------------------------------------------------- failures


def test_bad_values_fail_before_anything_is_built_or_deployed(env: Env) -> None:
    env.set(template_fail=True)
    with pytest.raises(PlatformError) as err:
        deploy.deploy(deploy.options(parse()), env.deps())
    assert "additional properties 'iamge' not allowed" in str(err.value)
    assert str(err.value).startswith("the values were rejected, so nothing was built")
    assert env.built == 0 and env.cluster_started == 0
    assert not env.calls("helm", "upgrade") and "applied" not in env.state


def test_a_failed_upgrade_is_reported_as_rolled_back(env: Env) -> None:
    opts = deploy.options(parse("--timeout", "30"))
    deploy.deploy(opts, env.deps())
    env.set(upgrade_fail=True)
    with pytest.raises(PlatformError) as err:
        deploy.deploy(opts, env.deps())
    msg = str(err.value)
    assert "rolled back: revision 3 (deployed) keeps serving" in msg
    assert "context deadline exceeded" in msg and "kubectl -n hello describe pods" in msg
    assert not env.calls("helm", "test")[1:]  # no helm test after the failed upgrade


def test_a_failed_upgrade_on_a_lost_cluster_says_so(env: Env) -> None:
    opts = deploy.options(parse())
    deploy.deploy(opts, env.deps())
    env.set(upgrade_fail=True, lose_cluster=True)
    with pytest.raises(PlatformError) as err:
        deploy.deploy(opts, env.deps())
    assert "the release's state could not be read afterwards" in str(err.value)
    assert "helm history hello -n hello" in str(err.value)


def test_a_failed_first_install_says_it_was_removed(env: Env) -> None:
    env.set(upgrade_fail=True)
    with pytest.raises(PlatformError, match="the first install failed"):
        deploy.deploy(deploy.options(parse()), env.deps())


def test_a_failed_helm_test_names_the_pod_logs(env: Env) -> None:
    env.set(test_fail=True)
    with pytest.raises(PlatformError) as err:
        deploy.deploy(deploy.options(parse()), env.deps())
    assert "helm test failed" in str(err.value) and "hello-test-http" in str(err.value)


def test_an_unreachable_cluster_fails_before_the_build(env: Env) -> None:
    env.set(unreachable=True)
    opts = deploy.options(parse("--kubeconfig", str(env.kubeconfig)))
    with pytest.raises(
        PlatformError, match=r"reaching the cluster .* failed: The connection"
    ) as err:
        deploy.deploy(opts, env.deps())
    assert "could not be reached" in str(err.value)
    assert "omit --kubeconfig" in str(err.value)
    assert env.built == 0


def test_smoke_insists_on_the_built_revision() -> None:
    def get(url: str) -> tuple[int, bytes]:
        if url.endswith("/version"):
            return 200, b'{"revision": "old"}'
        return 200, b"{}"

    with pytest.raises(PlatformError, match="revision old, expected new"):
        deploy.smoke("http://127.0.0.1:1", revision="new", get=get, attempts=2, pause=0)


def test_smoke_retries_until_the_service_answers() -> None:
    answers = iter([(0, b""), (503, b""), (200, b"{}"), (200, b'{"revision": "r"}')])
    info = deploy.smoke(
        "http://127.0.0.1:1", revision="r", get=lambda _: next(answers), attempts=5, pause=0
    )
    assert info == {"revision": "r"}


def test_smoke_requests_stay_on_this_machine() -> None:
    with pytest.raises(PlatformError, match="this machine only"):
        deploy.http_get("http://10.0.0.1:30080/")


# ------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--kubeconfig", "/nonexistent/kubeconfig"), "is not a file"),
        (("--context", "prod"), "--context needs --kubeconfig"),
        (("--namespace", "Bad_NS"), "--namespace 'Bad_NS' is not a valid name"),
        (("--release", "x" * 60), "is not a valid name"),
        (("--set", "novalue"), "is not of the form key=value"),
        (("--values", "/nonexistent/values.yaml"), "does not exist"),
        (("--timeout", "5"), "out of range"),
        (("--image", "hello"), "is not of the form REPOSITORY:TAG"),
        (("--image", "hello:latest@sha256:abc"), "is not of the form REPOSITORY:TAG"),
    ],
)
def test_bad_arguments_are_named(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(PlatformError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deploy.options(parse(*argv))


def test_the_cli_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["deploy", "--kubeconfig", "/nonexistent/kubeconfig"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --kubeconfig /nonexistent/kubeconfig is not a file")
    assert "\n" not in err


def test_the_cli_rejects_an_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["deploy", "--profile", "prod"])
    assert exc.value.code == 2
    assert "invalid choice: 'prod'" in capsys.readouterr().err


def test_the_short_aliases_parse_like_the_long_flags() -> None:
    short = cli.parse(["deploy", "-f", "a.yaml", "-n", "web"])
    long = cli.parse(["deploy", "--values", "a.yaml", "--namespace", "web"])
    assert (short.values, short.namespace) == (long.values, long.namespace) == (["a.yaml"], "web")


def test_a_misspelt_flag_is_named_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["deploy", "--namepsace", "web"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "hello-platform deploy: error: unrecognized arguments: --namepsace" in err
    assert err.startswith("usage: hello-platform deploy")
