"""``hello_platform.pipeline.deploy`` against a fake helm program and a fake API server.

The fake helm is a small Python script that logs its argv and keeps the release's revision
in a JSON state file, so the real subprocess wiring (flags, values order, KUBECONFIG) is
what is tested; the API server is an in-process transport of the one Kubernetes client
that logs into the same file.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from hello_platform import cli
from hello_platform.clients.helm import Helm
from hello_platform.clients.kube import Kube
from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import deploy, helm
from hello_platform.pipeline.deploy import cli as deploy_cli
from hello_platform.pipeline.helm import names

HELLO = catalogue.service()

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
elif cmd == "get":
    save()
    # What the release installed: a manifest a test wrote, else hello's front and pods
    # Services; the hooks: the test pod.
    if args[1] == "manifest" and state.get("manifest"):
        print(open(state["manifest"]).read())
    elif args[1] == "manifest":
        print("kind: Service\\nmetadata: {name: hello}\\nspec: {type: NodePort}\\n---\\n"
              "kind: Service\\nmetadata: {name: hello-pods}\\nspec: {clusterIP: None}")
    else:
        print("kind: Pod\\nmetadata:\\n  name: hello-test-http\\n"
              "  annotations: {helm.sh/hook: test}")
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
            state["service_asked"] = path.rsplit("/", 1)[1]
            self.state_file.write_text(json.dumps(state))
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
        self.built_services: list[str] = []
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
        def build(service: catalogue.Service, registry: object) -> deploy.Image:
            self.built_services.append(service.name)
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
    assert up[1:5] == ["upgrade", "--install", "hello", str(HELLO.chart)]
    assert "--wait" in up and "--atomic" in up
    assert up[up.index("--timeout") + 1] == "300s"
    assert up[up.index("--namespace") + 1] == "hello"
    assert up[up.index("--kubeconfig") + 1] == str(env.kubeconfig)
    files = [up[i + 1] for i, a in enumerate(up) if a == "--values"]
    assert files[0] == str(HELLO.chart / "values-local.yaml")
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
    assert str(HELLO.chart / "values-eks.yaml") in up
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
    assert Helm(env.helm).rollback_flag() == "--rollback-on-failure"
    env.set(v4=False)
    assert Helm(env.helm).rollback_flag() == "--atomic"


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


def test_names_are_read_from_the_release_with_fullname_override(env: Env) -> None:
    """The review's case: ``--release web --namespace web --set fullnameOverride=web``. The
    chart names its Service ``web`` (not ``web-hello``); the deploy reads that name from
    the release's manifest (here: the real chart rendered by the pinned helm)."""
    rendered = helm.render(
        helm.helm_binary(),
        HELLO,
        values_files=helm.profile_files(HELLO, "local"),
        sets=["fullnameOverride=web"],
        release="web",
        namespace="web",
    )
    manifest = env.tmp / "manifest.yaml"
    manifest.write_text(rendered)
    env.set(manifest=str(manifest))
    args = ("--release", "web", "--namespace", "web", "--set", "fullnameOverride=web")
    opts = deploy.options(parse(*args))
    result = deploy.deploy(opts, env.deps())
    assert env.state["service_asked"] == "web" and result.service == "web"
    assert result.url == "http://127.0.0.1:30080"
    assert "svc/web 8080:80" in deploy.how_to_reach(result, opts)
    assert helm.front_service(helm.documents(rendered), "web") == "web"
    # without the override, the chart's own rule gives web-hello: read, not assumed
    plain = helm.render(helm.helm_binary(), HELLO, release="web", namespace="web")
    assert helm.front_service(helm.documents(plain), "web") == "web-hello"


def test_a_release_without_one_front_service_is_named() -> None:
    docs = helm.documents("kind: Service\nmetadata: {name: a-pods}\nspec: {clusterIP: None}")
    with pytest.raises(PlatformError, match="release 'a' has 0 Services with a cluster IP"):
        helm.front_service(docs, "a")


def test_the_test_pods_are_read_from_the_hooks() -> None:
    hooks = helm.documents(
        "kind: Pod\nmetadata: {name: x-test, annotations: {helm.sh/hook: 'test,post-install'}}\n"
        "---\nkind: Job\nmetadata: {name: migrate, annotations: {helm.sh/hook: pre-install}}"
    )
    assert names.test_pods(hooks) == ["x-test"]


def test_the_catalogue_drives_the_defaults(env: Env, tmp_path: Path) -> None:
    """A second service: its chart, namespace, release and image come from its entry."""
    root = two_services(tmp_path / "ws")
    greeter = catalogue.load(root).service("greeter")
    opts = deploy.Options(service=greeter, profile="local")
    assert (opts.namespace, opts.release) == ("greeters", "greeter")
    deploy.deploy(opts, env.deps())
    assert env.built_services == ["greeter"]
    (up,) = [c for c in env.calls("helm", "upgrade") if "--help" not in c]
    assert up[1:5] == ["upgrade", "--install", "greeter", str(greeter.chart)]
    assert up[up.index("--namespace") + 1] == "greeters"
    assert str(greeter.chart / "values-local.yaml") in up
    assert env.state["applied"]["metadata"]["name"] == "greeters"


def two_services(root: Path) -> Path:
    """A workspace whose catalogue has hello and greeter (hello's chart, its own names)."""
    for name in ("hello", "greeter"):
        (root / "services" / name).mkdir(parents=True)
        (root / "services" / name / "Dockerfile").write_text("FROM scratch\n")
    shutil.copytree(HELLO.chart, root / "chart")
    entry = 'folder = "services/{0}"\nchart = "chart"\nprofiles = ["local"]\nport = 8000\n'
    (root / "services" / "catalogue.toml").write_text(
        "default = 'hello'\n[services.hello]\n" + entry.format("hello") + 'namespace = "hello"\n'
        "[services.greeter]\n" + entry.format("greeter") + 'namespace = "greeters"\n'
    )
    return root


def test_service_flag_picks_the_entry_and_names_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = two_services(tmp_path / "ws")
    monkeypatch.setattr(catalogue, "REPO_ROOT", root)
    monkeypatch.setattr(catalogue.service, "__defaults__", (None, root))
    opts = deploy.options(parse("--service", "greeter"))
    assert opts.service.name == "greeter" and opts.namespace == "greeters"
    assert deploy.options(parse()).service.name == "hello"
    with pytest.raises(PlatformError) as err:
        deploy.options(parse("--service", "nope"))
    assert err.value.message == (
        "there is no service 'nope' in services/catalogue.toml (known services: greeter, hello)"
    )
    with pytest.raises(PlatformError, match="service 'greeter' has no values profile 'eks'"):
        deploy.options(parse("--service", "greeter", "--profile", "eks"))


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
    assert cli.main(["deploy", "--profile", "prod"]) == 2
    err = capsys.readouterr().err
    assert "error: service 'hello' has no values profile 'prod'" in err
    assert "use one of: default, local, eks" in err


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


def test_a_given_login_becomes_the_pods_pull_secret(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_REGISTRY_PASSWORD", "s3cret")
    image = "127.0.0.1:5443/hello:0.1.0-abcdef1"
    opts = deploy.options(parse("--image", image, "--registry-username", "ci"))
    assert opts.registry is not None and opts.registry.address == "127.0.0.1:5443"
    deploy.deploy(opts, env.deps())
    secret = env.state["applied"]  # the last object applied: after the namespace
    assert secret["kind"] == "Secret" and secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"] == {"name": "hello-registry", "namespace": "hello"}
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert base64.b64decode(config["auths"]["127.0.0.1:5443"]["auth"]) == b"ci:s3cret"
    (up,) = [c for c in env.calls("helm", "upgrade") if "--help" not in c]
    files = [up[i + 1] for i, a in enumerate(up) if a == "--values"]
    values = json.loads(Path(files[1]).read_text())
    assert values["imagePullSecrets"] == [{"name": "hello-registry"}]


def test_no_login_no_pull_secret(env: Env) -> None:
    opts = deploy.options(parse("--image", "127.0.0.1:5000/hello:0.1.0-abcdef1"))
    assert opts.registry is None and opts.pull_secret == ""
    with pytest.raises(PlatformError, match="need --registry"):
        deploy.options(parse("--registry-username", "ci"))
