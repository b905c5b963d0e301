"""Unit tests of the image build's logic: tags, immutability, build args, SBOM, Dockerfile.

Fast and without Docker: git runs on throw-away repositories, the registry is a tiny HTTP
server on 127.0.0.1. The one real build is marked ``slow``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from hello_platform.cli import build_parser
from hello_platform.clients import oci
from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import image
from hello_platform.pipeline.image import cli as image_cli
from hello_platform.pipeline.image.builder import decide_push, reuse_pushed
from hello_platform.pipeline.image.cyclonedx import debian_packages, package_of, sbom
from hello_platform.pipeline.image.source import (
    Source,
    build_args,
    compute_tag,
    docker_build_command,
    image_inputs,
    local_repository,
    read_version,
    source_url,
)
from hello_platform.pipeline.image.wheels import PIP_PLATFORM_ARGS, PLATFORMS, assemble_context
from hello_platform.substrate import baseimage

HELLO = catalogue.service()
UID = 10001  # the numeric user the service runs as
DOCKERFILE = HELLO.dockerfile
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
    "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout


def at(root: Path) -> catalogue.Service:
    """The hello service as if its repository were ``root``."""
    folder = root / "services/hello"
    return dataclasses.replace(HELLO, root=root, folder=folder, dockerfile=folder / "Dockerfile")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git repository shaped like this one: a service pyproject and an unrelated file."""
    repo = tmp_path / "repo"
    (repo / "services/hello/src/hello").mkdir(parents=True)
    (repo / "services/hello/pyproject.toml").write_text(
        '[project]\nname = "hello"\nversion = "1.2.3"\n'
    )
    (repo / "services/hello/src/hello/__init__.py").write_text("")
    (repo / "README.md").write_text("readme\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    return repo


# --- tags --------------------------------------------------------------------------------


def test_tag_of_a_clean_tree_is_version_and_short_commit() -> None:
    assert compute_tag("0.1.0", "abcdef0123456789", None) == "0.1.0-abcdef0"


def test_tag_of_a_dirty_tree_names_the_diff() -> None:
    tag = compute_tag("0.1.0", "abcdef0123456789", "99887766554433")
    assert tag == "0.1.0-abcdef0-dirty-99887766"


def test_tag_is_made_safe_for_docker() -> None:
    tag = compute_tag("1.0+local", "abcdef0", None)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag)
    assert tag == "1.0_local-abcdef0"


def test_version_comes_from_the_service_pyproject(checkout: Path) -> None:
    assert read_version(checkout / "services/hello/pyproject.toml") == "1.2.3"


def test_a_pyproject_without_version_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project]\nname = "hello"\n')
    with pytest.raises(PlatformError, match="version"):
        read_version(bad)


def test_the_real_service_version_is_read_not_copied() -> None:
    pyproject = paths.REPO_ROOT / "services/hello/pyproject.toml"
    assert read_version(pyproject) in image.read_source(HELLO, env={}).tag


def test_clean_checkout(checkout: Path) -> None:
    source = image.read_source(at(checkout), env={})
    commit = git(checkout, "rev-parse", "HEAD").strip()
    assert source.tag == f"1.2.3-{commit[:7]}"
    assert not source.dirty
    assert source.revision == commit
    # A clean build's time is the commit's: rebuilding a commit gives the same image.
    assert source.created == "2026-01-02T03:04:05Z"
    assert source.source_url == "unknown"


def test_changes_outside_the_image_inputs_keep_the_tag_clean(checkout: Path) -> None:
    (checkout / "README.md").write_text("changed\n")
    (checkout / "notes.txt").write_text("untracked\n")
    assert not image.read_source(at(checkout), env={}).dirty


def test_dirty_tags_are_content_addressed(checkout: Path) -> None:
    init = checkout / "services/hello/src/hello/__init__.py"
    init.write_text("A = 1\n")
    first = image.read_source(at(checkout), env={})
    assert first.dirty
    assert first.revision.endswith("-dirty")
    assert re.fullmatch(r"1\.2\.3-[0-9a-f]{7}-dirty-[0-9a-f]{8}", first.tag)
    assert image.read_source(at(checkout), env={}).tag == first.tag  # same diff, same tag
    init.write_text("A = 2\n")
    assert image.read_source(at(checkout), env={}).tag != first.tag  # other diff, other tag


def test_untracked_files_in_the_service_make_it_dirty(checkout: Path) -> None:
    (checkout / "services/hello/src/hello/new.py").write_text("x = 1\n")
    assert image.read_source(at(checkout), env={}).dirty


def test_source_date_epoch_and_github_url_are_honoured(checkout: Path) -> None:
    env = {
        "SOURCE_DATE_EPOCH": "0",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "org/repo",
    }
    source = image.read_source(at(checkout), env=env)
    assert source.created == "1970-01-01T00:00:00Z"
    assert source.source_url == "https://github.example/org/repo"


def test_origin_url_loses_its_credentials(checkout: Path) -> None:
    git(checkout, "remote", "add", "origin", "https://user:token@git.example/org/repo.git")
    assert source_url(checkout, {}) == "https://git.example/org/repo.git"


def test_outside_git_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "services/hello").mkdir(parents=True)
    (tmp_path / "services/hello/pyproject.toml").write_text('[project]\nversion = "1"\n')
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(PlatformError, match="git"):
        image.read_source(at(tmp_path), env={})


# --- build args ----------------------------------------------------------------------------


SOURCE = Source(
    version="0.1.0",
    commit="0123456789abcdef0123456789abcdef01234567",
    dirty_hash=None,
    created="2026-11-30T00:00:00Z",
    source_url="https://git.example/hello-platform",
)
BASES = baseimage.BaseImages(runtime="hp/python:slim", builder="hp/python:build")


def test_build_args_carry_labels_and_build_info() -> None:
    args = build_args(BASES, SOURCE)
    assert args == {
        "BASE_IMAGE": "hp/python:slim",
        "BUILDER_IMAGE": "hp/python:build",
        "VERSION": "0.1.0",
        "REVISION": SOURCE.commit,
        "CREATED": "2026-11-30T00:00:00Z",
        "SOURCE": "https://git.example/hello-platform",
    }


def test_docker_build_command_is_offline_and_tagged() -> None:
    cmd = docker_build_command(
        Path("/r/services/hello/Dockerfile"),
        Path("/r/out/image/context"),
        "127.0.0.1:5000/hello:0.1.0-0123456",
        {"VERSION": "0.1.0", "SOURCE": "a b"},
    )
    assert cmd[:3] == ["docker", "build", "--network=none"]
    assert cmd[cmd.index("--file") + 1] == "/r/services/hello/Dockerfile"
    assert cmd[cmd.index("--tag") + 1] == "127.0.0.1:5000/hello:0.1.0-0123456"
    assert "VERSION=0.1.0" in cmd
    assert "SOURCE=a b" in cmd  # one argv element, no shell quoting needed
    assert cmd[-1] == "/r/out/image/context"


def test_pip_download_targets_the_images_python() -> None:
    args = " ".join(PIP_PLATFORM_ARGS)
    assert "--only-binary=:all:" in args
    assert "--python-version 3.11" in args
    assert "--abi cp311" in args
    # Wheels for older glibc run on bookworm's 2.36; musl or newer glibc wheels do not.
    assert "manylinux_2_36_x86_64" in PLATFORMS
    assert "manylinux_2_17_x86_64" in PLATFORMS
    assert "manylinux2014_x86_64" in PLATFORMS
    assert not any("2_37" in p or "musl" in p for p in PLATFORMS)


def test_context_holds_only_wheels_and_hashed_requirements(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    dep = make_wheel(wheels, "dep", "1.0")
    pip = make_wheel(tmp_path, "pip", "26.0")
    app = make_wheel(tmp_path, "hello", "0.1.0")
    context = tmp_path / "context"
    assemble_context(
        context,
        wheels=wheels,
        requirements="dep==1.0\n",
        installer=pip,
        app_wheel=app,
        app="hello",
    )
    files = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file())
    assert files == sorted(
        [
            "app/hello-0.1.0-py3-none-any.whl",
            "app/requirements.txt",
            f"deps/wheels/{dep.name}",
            "deps/requirements.txt",
            "installer/pip.whl",
        ]
    )
    line = (context / "app/requirements.txt").read_text()
    assert line.startswith("hello @ file:///build/app/hello-0.1.0-py3-none-any.whl --hash=sha256:")
    assert re.search(r"--hash=sha256:[0-9a-f]{64}$", line.strip())


# --- immutability ----------------------------------------------------------------------------

ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64
REF = "127.0.0.1:5000/hello:0.1.0-0123456"


def test_a_new_tag_is_pushed() -> None:
    assert decide_push(REF, local_id=ID_A, remote=None, dirty=False) == "push"


def test_the_same_content_is_not_pushed_again() -> None:
    remote = oci.RemoteImage(digest="sha256:" + "d" * 64, config_digest=ID_A)
    assert decide_push(REF, local_id=ID_A, remote=remote, dirty=False) == "skip"


def test_a_clean_tag_with_other_content_is_refused() -> None:
    remote = oci.RemoteImage(digest="sha256:" + "d" * 64, config_digest=ID_B)
    with pytest.raises(PlatformError, match="immutable") as err:
        decide_push(REF, local_id=ID_A, remote=remote, dirty=False)
    assert "\n" not in str(err.value)
    assert "commit" in str(err.value)


def test_a_pushed_clean_tag_is_reused_not_rebuilt() -> None:
    remote = oci.RemoteImage(digest="sha256:" + "d" * 64, config_digest=ID_B)
    assert reuse_pushed(remote, dirty=False, refresh_base=False)
    # Nothing to reuse, a scratch tag, or an explicit rebuild: build it.
    assert not reuse_pushed(None, dirty=False, refresh_base=False)
    assert not reuse_pushed(remote, dirty=True, refresh_base=False)
    assert not reuse_pushed(remote, dirty=False, refresh_base=True)


def test_a_dirty_scratch_tag_may_be_overwritten() -> None:
    remote = oci.RemoteImage(digest="sha256:" + "d" * 64, config_digest=ID_B)
    assert decide_push(REF, local_id=ID_A, remote=remote, dirty=True) == "overwrite"


class FakeRegistry(BaseHTTPRequestHandler):
    """Serves ``hello:present``; 404 for any other tag; 500 for ``hello:broken``."""

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": ID_A, "size": 1, "mediaType": "x"},
            "layers": [],
        }
    ).encode()
    seen_accept: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen_accept.append(self.headers.get("Accept", ""))
        if self.path == "/v2/hello/manifests/present":
            self.send_response(200)
            self.send_header("Docker-Content-Digest", "sha256:" + "d" * 64)
            self.send_header("Content-Length", str(len(self.manifest)))
            self.end_headers()
            self.wfile.write(self.manifest)
        elif self.path == "/v2/hello/manifests/broken":
            self.send_error(500)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LOCAL = oci.Registry("127.0.0.1:5000", plain_http=True)


def local(address: str) -> oci.Client:
    return oci.Client(oci.Registry(address, plain_http=True))


def test_registry_client_reads_digest_and_config(registry: str) -> None:
    remote = local(registry).manifest("hello", "present")
    assert remote == oci.RemoteImage(digest="sha256:" + "d" * 64, config_digest=ID_A)
    assert "application/vnd.docker.distribution.manifest.v2+json" in FakeRegistry.seen_accept[-1]


def test_registry_client_missing_tag_is_none(registry: str) -> None:
    assert local(registry).manifest("hello", "absent") is None


def test_registry_errors_are_clear(registry: str) -> None:
    with pytest.raises(PlatformError, match="answered 500"):
        local(registry).manifest("hello", "broken")


def test_unreachable_registry_is_a_clear_error() -> None:
    with pytest.raises(PlatformError, match="did not answer"):
        oci.Client(oci.Registry("127.0.0.1:9", plain_http=True), timeout=2).manifest("hello", "x")


def test_immutability_end_to_end_with_the_fake_registry(registry: str) -> None:
    client = local(registry)
    assert (
        decide_push(REF, local_id=ID_A, remote=client.manifest("hello", "present"), dirty=False)
        == "skip"
    )
    with pytest.raises(PlatformError, match="refusing to push"):
        decide_push(REF, local_id=ID_B, remote=client.manifest("hello", "present"), dirty=False)
    assert (
        decide_push(REF, local_id=ID_B, remote=client.manifest("hello", "new"), dirty=False)
        == "push"
    )


# --- SBOM ------------------------------------------------------------------------------------


def make_wheel(where: Path, name: str, version: str, license_: str | None = "MIT") -> Path:
    path = where / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n"
    if license_:
        meta += f"License-Expression: {license_}\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", meta + "\n")
    return path


def test_sbom_is_cyclonedx_1_5(tmp_path: Path) -> None:
    wheels = [
        make_wheel(tmp_path, "Pydantic-Core", "2.0.0", "MIT"),
        make_wheel(tmp_path, "anyio", "4.0.0", None),
        make_wheel(tmp_path, "hello", "0.1.0", None),
    ]
    packages = [package_of(w) for w in wheels]
    bom = sbom(packages, source=SOURCE, image="127.0.0.1:5000/hello", app="hello")
    json.dumps(bom)  # serialisable
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.5"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", bom["serialNumber"])
    assert bom["version"] == 1
    subject = bom["metadata"]["component"]
    assert subject["type"] == "container"
    assert subject["version"] == SOURCE.tag
    assert bom["metadata"]["timestamp"] == SOURCE.created
    names = [c["name"] for c in bom["components"]]
    assert names == ["anyio", "hello", "pydantic-core"]  # sorted, normalised (PEP 503)
    refs = set()
    for comp in bom["components"]:
        assert comp["type"] in ("library", "application")
        assert comp["purl"] == f"pkg:pypi/{comp['name']}@{comp['version']}"
        assert comp["bom-ref"] == comp["purl"]
        (digest,) = comp["hashes"]
        assert digest["alg"] == "SHA-256"
        assert re.fullmatch(r"[0-9a-f]{64}", digest["content"])
        refs.add(comp["bom-ref"])
    by_name = {c["name"]: c for c in bom["components"]}
    assert by_name["hello"]["type"] == "application"
    assert by_name["pydantic-core"]["licenses"] == [{"license": {"name": "MIT"}}]
    assert "licenses" not in by_name["anyio"]
    (dep,) = bom["dependencies"]
    assert dep["ref"] == subject["bom-ref"]
    assert set(dep["dependsOn"]) == refs


def test_sbom_serial_is_stable_for_the_same_build(tmp_path: Path) -> None:
    pkgs = [package_of(make_wheel(tmp_path, "anyio", "4.0.0"))]
    one = sbom(pkgs, source=SOURCE, image="r/hello", app="hello")
    two = sbom(pkgs, source=SOURCE, image="r/hello", app="hello")
    assert one == two


# --- the Dockerfile, statically ----------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_dockerfile_is_multi_stage_from_the_projects_bases() -> None:
    froms = [arg for word, arg in instructions(DOCKERFILE) if word == "FROM"]
    assert len(froms) >= 3
    for arg in froms:
        base = arg.split()[0]
        assert base.startswith("${") or base in {"deps", "app"}, base
        assert "latest" not in arg
    assert froms[-1].split()[0] == "${BASE_IMAGE}"


def test_dockerfile_final_user_is_numeric_and_not_root() -> None:
    users = [arg for word, arg in final_stage(DOCKERFILE) if word == "USER"]
    assert users, "the final stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) == UID
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_dockerfile_final_stage_has_labels_env_and_one_worker_entrypoint() -> None:
    stage = final_stage(DOCKERFILE)
    labels = " ".join(arg for word, arg in stage if word == "LABEL")
    for key in ("version", "revision", "source", "created", "title"):
        assert f"org.opencontainers.image.{key}=" in labels
    env = " ".join(arg for word, arg in stage if word == "ENV")
    for key in ("PYTHONDONTWRITEBYTECODE=1", "HELLO_GIT_REVISION=", "HELLO_BUILD_TIME="):
        assert key in env
    (entry,) = [arg for word, arg in stage if word == "ENTRYPOINT"]
    argv = json.loads(entry)
    assert argv[1:] == ["-m", "hello"]
    assert "--workers" not in argv


def test_dockerfile_installs_offline_and_keeps_pip_out_of_the_final_image() -> None:
    steps = instructions(DOCKERFILE)
    runs = [arg for word, arg in steps if word == "RUN"]
    installs = [r for r in runs if " install " in r]
    assert installs
    for run in installs:
        words = shlex.split(run)
        assert "--no-index" in words and "--require-hashes" in words
    assert not any("apt-get" in r or "curl" in r or "wget" in r for r in runs)
    final = final_stage(DOCKERFILE)
    copies = [arg for word, arg in final if word == "COPY"]
    assert copies and all(c.startswith("--from=") for c in copies)
    assert not any("pip" in c or "/build" in c for c in copies)
    assert not any(word == "ADD" for word, _ in steps)


def test_dockerfile_compiles_bytecode_for_a_read_only_root() -> None:
    runs = " ".join(arg for word, arg in instructions(DOCKERFILE) if word == "RUN")
    assert "compileall" in runs
    assert "unchecked-hash" in runs


def test_dockerfile_build_args_are_the_ones_the_build_passes() -> None:
    declared = {arg.split("=")[0] for word, arg in instructions(DOCKERFILE) if word == "ARG"}
    assert declared == set(build_args(BASES, SOURCE))


# --- base image recipe -------------------------------------------------------------------------


def test_base_key_is_stable_and_names_the_recipe() -> None:
    key = baseimage.recipe_key()
    assert key == baseimage.recipe_key()
    assert re.fullmatch(r"[0-9a-f]{12}", key)
    assert baseimage.image_name(key) == f"hello-platform/python:3.11-slim-bookworm-{key}"
    assert baseimage.image_name(key, flavour="build").endswith(f"-build-bookworm-{key}")


def test_base_keeps_python_and_drops_the_package_manager() -> None:
    assert "python3" in baseimage.INCLUDE
    assert {"apt", "perl-base", "debconf"} <= set(baseimage.PURGE)
    assert not set(baseimage.PURGE) & {"libc6", "libpython3.11-stdlib", "python3.11-minimal"}
    assert "var/lib/apt" in baseimage.DELETE


def test_base_sources_include_security_updates() -> None:
    text = baseimage.sources_list("http://mirror.example/debian")
    assert "http://mirror.example/debian bookworm main" in text
    assert "bookworm-security main" in text
    assert "bookworm-updates main" in text


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_has_image_build() -> None:
    args = build_parser().parse_args(["image", "build", "--no-push"])
    assert args.no_push is True
    assert args.refresh_base is False
    assert args.func is image_cli.run_build


# --- the real thing ------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_build_without_push() -> None:
    """Builds the image for real (Docker engine, root for the first base image)."""
    result = image.build(HELLO, push=False)
    assert result.ref.startswith("127.0.0.1:5000/hello:")
    assert result.digest is None
    assert 0 < result.size_bytes <= 120_000_000
    assert json.loads(result.sbom.read_text())["bomFormat"] == "CycloneDX"
    user = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Config.User}}", result.ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert user == f"{UID}:{UID}"


def test_base_drops_setuid_and_setgid_bits(tmp_path: Path) -> None:
    (tmp_path / "usr/bin").mkdir(parents=True)
    su = tmp_path / "usr/bin/su"
    su.write_text("")
    su.chmod(0o4755)
    wall = tmp_path / "usr/bin/wall"
    wall.write_text("")
    wall.chmod(0o2755)
    plain = tmp_path / "usr/bin/ls"
    plain.write_text("")
    plain.chmod(0o755)
    (tmp_path / "bin").symlink_to("usr/bin")
    assert baseimage.drop_setid_bits(tmp_path) == ["usr/bin/su", "usr/bin/wall"]
    assert {oct(p.stat().st_mode & 0o7777) for p in (su, wall, plain)} == {"0o755"}


DPKG_STATUS = """\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 2.36-9+deb12u14
Description: GNU C Library
 multi-line: description, with a colon

Package: perl-base
Status: purge ok not-installed
Architecture: amd64

Package: login
Status: install ok installed
Architecture: amd64
Version: 1:4.13+dfsg1-1+b1
"""


def test_debian_packages_from_dpkg_status() -> None:
    debs = debian_packages(DPKG_STATUS)
    assert [d.name for d in debs] == ["libc6", "login"]  # purged ones are not listed
    assert debs[0].purl == "pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12"
    assert debs[1].purl == "pkg:deb/debian/login@1%3A4.13+dfsg1-1+b1?arch=amd64&distro=debian-12"


def test_sbom_lists_debian_packages_too(tmp_path: Path) -> None:
    pkgs = [package_of(make_wheel(tmp_path, "anyio", "4.0.0"))]
    bom = sbom(
        pkgs,
        source=SOURCE,
        image="r/hello",
        os_packages=debian_packages(DPKG_STATUS),
        app="hello",
    )
    purls = [c["purl"] for c in bom["components"]]
    assert purls[0] == "pkg:pypi/anyio@4.0.0"
    assert any(p.startswith("pkg:deb/debian/libc6@") for p in purls)
    assert len(set(purls)) == len(purls)
    assert set(bom["dependencies"][0]["dependsOn"]) == set(purls)


def test_the_catalogue_drives_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second service's entry names what is built: its Dockerfile, folder, package and
    repository (nothing of hello's)."""
    from hello_platform.pipeline.image import builder

    root = tmp_path / "ws"
    (root / "services/greeter").mkdir(parents=True)
    (root / "services/greeter/Dockerfile").write_text("FROM scratch\n")
    shutil.copytree(HELLO.chart, root / "chart")
    (root / "services/catalogue.toml").write_text(
        '[services.greeter]\nfolder = "services/greeter"\nchart = "chart"\n'
        'namespace = "g"\nport = 8000\nrepository = "team/greeter"\npackage = "greet-er"\n'
    )
    svc = catalogue.load(root).service()
    assert image_inputs(svc)[:2] == ("services/greeter", "services/greeter/Dockerfile")
    assert local_repository(svc) == "hello-platform/team/greeter"
    assert svc.app == "greet_er.main:app"
    ran: list[list[str]] = []
    monkeypatch.setattr(builder.proc, "run", lambda cmd, **_kw: ran.append(list(cmd)))
    ctx = builder.Context(svc, tmp_path, tmp_path / "log", SOURCE, LOCAL, None, None)
    assert ctx.ref == f"127.0.0.1:5000/team/greeter:{SOURCE.tag}"
    local = builder.docker_build(ctx, tmp_path / "context", BASES)
    assert local == f"hello-platform/team/greeter:{SOURCE.tag}"
    (cmd,) = ran
    assert cmd[cmd.index("--file") + 1] == str(root / "services/greeter/Dockerfile")
