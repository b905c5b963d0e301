"""The service catalogue: the repository's own, and bad entries refused in one sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT


def test_the_repository_catalogue_declares_hello_with_its_defaults() -> None:
    hello = catalogue.service()
    assert hello.name == "hello" and hello.package == "hello" and hello.repository == "hello"
    assert hello.dockerfile == REPO_ROOT / "services/hello/Dockerfile"
    assert hello.chart == REPO_ROOT / "deploy/helm/hello"
    assert hello.release == "hello" and hello.namespace == "hello" and hello.port == 8000
    assert hello.values_file("eks").is_file()


def test_the_port_matches_the_chart(tmp_path: Path) -> None:
    import yaml

    hello = catalogue.service("hello")
    values = yaml.safe_load((hello.chart / "values.yaml").read_text())
    assert values["containerPort"] == hello.port


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with two services: hello and a second one sharing hello's chart."""
    (tmp_path / "services").mkdir()
    for svc in ("hello", "echo"):
        (tmp_path / "services" / svc).mkdir()
        (tmp_path / "services" / svc / "Dockerfile").write_text("FROM scratch\n")
    shutil.copytree(REPO_ROOT / "deploy/helm/hello", tmp_path / "chart")
    return tmp_path


def write(root: Path, text: str) -> None:
    (root / "services" / "catalogue.toml").write_text(text)


ENTRY = 'folder = "services/{0}"\nchart = "chart"\nnamespace = "{0}"\nport = 8000\n'


def test_two_services_and_a_default(workspace: Path) -> None:
    write(
        workspace,
        "default = 'echo'\n[services.hello]\n"
        + ENTRY.format("hello")
        + "[services.echo]\n"
        + ENTRY.format("echo")
        + 'repository = "team/echo"\n',
    )
    cat = catalogue.load(workspace)
    assert cat.service().name == "echo"
    assert cat.service("echo").repository == "team/echo"
    assert cat.service("hello").namespace == "hello"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "declares no service"),
        ("[services.hello\n", "is not valid TOML"),
        ("[services.hello]\n" + ENTRY.format("hello") + "iamge = 'x'\n", "unknown key 'iamge'"),
        (
            "[services.hello]\nfolder = 'services/hello'\nchart = 'chart'\nport = 1\n",
            "'namespace' is missing",
        ),
        ("[services.nope]\n" + ENTRY.format("nope"), "the folder services/nope does not exist"),
        (
            "[services.hello]\n" + ENTRY.format("hello").replace('"chart"', '"services"'),
            "is not a Helm chart",
        ),
        (
            "[services.hello]\n" + ENTRY.format("hello") + "profiles = ['prod']\n",
            "profile 'prod' has no chart/values-prod.yaml",
        ),
        (
            "[services.hello]\n"
            + ENTRY.format("hello")
            + "[services.echo]\n"
            + ENTRY.format("echo"),
            "the default service '' is not declared",
        ),
    ],
)
def test_bad_catalogues_are_one_sentence(workspace: Path, text: str, message: str) -> None:
    write(workspace, text)
    with pytest.raises(PlatformError, match=message):
        catalogue.load(workspace)


def test_an_unknown_service_names_the_known_ones() -> None:
    with pytest.raises(PlatformError, match=r"no service 'web'.*known services: hello"):
        catalogue.service("web")


#: Every session that works on a service (nox -s helm, policy, bench, build, deploy,
#: loadtest, drill, release).
SERVICE_COMMANDS = [
    ("helm", "check"),
    ("helm", "render"),
    ("policy",),
    ("bench",),
    ("image", "build"),
    ("deploy",),
    ("loadtest",),
    ("drill",),
    ("release",),
]


@pytest.mark.parametrize("words", SERVICE_COMMANDS, ids=" ".join)
def test_every_service_session_takes_service(words: tuple[str, ...]) -> None:
    from hello_platform import cli

    assert cli.parse([*words, "--service", "hello"]).service == "hello"
    assert cli.parse(list(words)).service is None  # the catalogue's default


def test_an_unknown_service_is_one_sentence_from_any_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hello_platform import cli

    assert cli.main(["helm", "render", "--service", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "error: there is no service 'nope' in services/catalogue.toml (known services: hello)."
    )
    assert "\n" not in err


def test_the_gitops_environment_names_its_service() -> None:
    from hello_platform.pipeline.gitops import release

    app = release.env_app("local")
    assert release.env_service("local") == catalogue.service()
    assert REPO_ROOT / app.chart == catalogue.service().chart
    with pytest.raises(PlatformError, match=r"no service 'web'.*known services: hello"):
        release.env_service("local", "web")
