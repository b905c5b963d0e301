"""The GitOps source: a bare mirror of this repository served by ``git daemon`` on the
cluster bridge. The daemon is read-only on purpose (any pod could otherwise push to the
branch Argo CD applies with cluster-wide rights): we push through the filesystem.

Branches: ``source/<branch>`` (the checkout's, force-pushed; its own namespace so a
checkout branch ``gitops`` cannot clash) and ``gitops/<env>``, the environment branch Argo
CD tracks, only ever merged into, never rewritten (its history is the audit trail).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT, state_dir
from hello_platform.core.progress import say
from hello_platform.pipeline.gitops import envs
from hello_platform.substrate import daemons
from hello_platform.substrate.cluster import layout

HOST = layout.NODE_IP
PORT = 9418
REPO_NAME = "hello-platform.git"
URL = f"git://{HOST}:{PORT}/{REPO_NAME}"
AUTHOR = {
    "GIT_AUTHOR_NAME": "hello-platform gitops",
    "GIT_AUTHOR_EMAIL": "gitops@hello-platform.invalid",
    "GIT_COMMITTER_NAME": "hello-platform gitops",
    "GIT_COMMITTER_EMAIL": "gitops@hello-platform.invalid",
}


def env_branch(env: str) -> str:
    return f"gitops/{env}"


def daemon() -> daemons.Daemon:
    """Bound to the node: ``cluster down`` stops it with the bridge, ``cluster up`` restarts it."""
    return daemons.Daemon(
        name="git-daemon",
        argv=tuple(daemon_argv(base_path())),
        probe=daemons.Probe(tcp=f"{HOST}:{PORT}"),
        run_dir=state_dir() / "gitops",
        start_timeout=10.0,
        stop_timeout=5.0,
        bound_to_node=True,
        foreign=f"something else listens on {HOST}:{PORT}, not this project's git daemon",
        foreign_hint=(
            "stop it, or run `nox -s gitops -- down` if it is ours from another checkout"
        ),
    )


def base_path() -> Path:
    return state_dir() / "gitops" / "repos"


def _run(args: tuple[str, ...], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """git with a fixed identity and no system config."""
    env = {**os.environ, **AUTHOR, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def git(*args: str, cwd: Path | None = None, what: str = "") -> str:
    done = _run(args, cwd)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PlatformError(f"{what or 'git ' + args[0]} failed: {last}")
    return done.stdout


def git_ok(*args: str) -> bool:
    return _run(args).returncode == 0


def source(url: str | None) -> str:
    return url or str(ensure_mirror(base_path()))


def daemon_argv(base: Path) -> list[str]:
    return [
        shutil.which("git") or "git",
        "daemon",
        "--reuseaddr",
        f"--listen={HOST}",
        f"--port={PORT}",
        f"--base-path={base}",
        "--export-all",
        "--forbid-override=receive-pack",
        "--informative-errors",
        str(base),
    ]


def ensure_mirror(base: Path) -> Path:
    mirror = base / REPO_NAME
    if not (mirror / "HEAD").exists():
        base.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", str(mirror), what="creating the GitOps mirror")
        git("-C", str(mirror), "config", "receive.denyDeletes", "true")
    return mirror


def ensure_running() -> str:
    spec = daemon()
    if spec.answers():
        return URL
    daemons.refuse_foreign(spec)
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", layout.BRIDGE],
        capture_output=True,
        text=True,
        check=False,
    )
    if f"inet {HOST}/" not in shown.stdout:
        raise PlatformError(
            f"the cluster bridge {layout.BRIDGE} ({HOST}) is not up",
            hint="run `nox -s cluster -- up` first",
        )
    ensure_mirror(base_path())
    say(f"starting git daemon on {URL} (log {spec.log})")
    daemons.ensure(spec)
    return URL


def stop() -> bool:
    """Stop it and forget it (``cluster up`` will not start it again)."""
    return daemons.stop(daemon().name, forget=True)


def current_branch(repo: Path = REPO_ROOT) -> str:
    name = git("-C", str(repo), "rev-parse", "--abbrev-ref", "HEAD").strip()
    return "main" if name in ("", "HEAD") else name


def head(repo: Path = REPO_ROOT) -> str:
    return git("-C", str(repo), "rev-parse", "HEAD").strip()


def redact(url: str) -> str:
    """``url`` without credentials."""
    return re.sub(r"//[^/@]+@", "//", url)


def remote_ref(ref: str, url: str | None = None) -> str | None:
    url = source(url)
    out = git("ls-remote", url, f"refs/heads/{ref}", what=f"git ls-remote {redact(url)}")
    return out.split()[0] if out.strip() else None


@contextlib.contextmanager
def checkout(branch: str, url: str | None = None, *, bare: bool = False) -> Iterator[Path]:
    """A clone of ``branch``; ``bare``: only its history, no work tree."""
    only = ("--bare", "--single-branch") if bare else ()
    with tempfile.TemporaryDirectory(prefix="hello-gitops-") as tmp:
        work = Path(tmp) / "wt"
        git(
            "clone",
            "--quiet",
            *only,
            "--branch",
            branch,
            source(url),
            str(work),
            what=f"cloning {branch}",
        )
        yield work


def push(work: Path, branch: str) -> str:
    to = f"HEAD:refs/heads/{branch}"
    git("push", "--quiet", "origin", to, cwd=work, what=f"pushing {branch} to the mirror")
    return head(work)


@dataclass(frozen=True)
class Published:
    source_branch: str
    source_commit: str
    env_branch: str
    env_commit: str


def publish(env: str, repo: Path = REPO_ROOT) -> Published:
    """Push HEAD to the mirror; create or fast-forward/merge the environment branch."""
    ensure_running()
    branch, sha = current_branch(repo), head(repo)
    mirror = source(None)
    to = f"HEAD:refs/heads/source/{branch}"
    git(
        "push", "--quiet", "--force", mirror, to, cwd=repo, what="pushing HEAD to the GitOps mirror"
    )
    target = env_branch(env)
    before = remote_ref(target)
    if before is None:
        to = f"HEAD:refs/heads/{target}"
        git("push", "--quiet", mirror, to, cwd=repo, what=f"creating {target}")
        return Published(branch, sha, target, sha)
    with checkout(target) as work:
        git("fetch", "--quiet", "origin", f"refs/heads/source/{branch}", cwd=work)
        if git_ok("-C", str(work), "merge-base", "--is-ancestor", sha, "HEAD"):
            return Published(branch, sha, target, before)
        message = f"gitops: publish {branch} {sha[:12]} to {target}"
        if not git_ok("-C", str(work), "merge", "--no-edit", "-m", message, "FETCH_HEAD"):
            source_wins(work, env, message)
            say(
                f"{target} had changes of its own that clash with {branch}: {branch} wins "
                f"outside {envs.ENVS_DIR}/{env}, which keeps the environment's own files"
            )
        after = push(work, target)
    return Published(branch, sha, target, after)


def source_wins(work: Path, env: str, message: str) -> None:
    """Finish a clashing merge with the source's tree except the environment's own folder
    (its releases), kept as the branch had it; both parents stay, so no release is lost."""
    git("-C", str(work), "merge", "--abort", what="aborting the clashing merge")
    folder = f"{envs.ENVS_DIR}/{env}"
    w = ("-C", str(work))
    git(*w, "merge", "--quiet", "--no-commit", "-s", "ours", "FETCH_HEAD", what="merge -s ours")
    git(*w, "read-tree", "-u", "--reset", "FETCH_HEAD", what="taking the source's tree")
    if git_ok(*w, "cat-file", "-e", f"HEAD:{folder}"):
        git(*w, "rm", "-r", "-q", "-f", "--ignore-unmatch", "--", folder, what=f"clearing {folder}")
        git(*w, "checkout", "HEAD", "--", folder, what=f"keeping {folder}")
    git(*w, "commit", "--quiet", "--no-edit", "-m", message, what="committing the merge")


def commit_files(
    branch: str, files: Mapping[str, str], message: str, *, url: str | None = None
) -> str:
    """Commit ``{path: text}`` on ``branch``; the new commit (the old one when unchanged)."""
    with checkout(branch, url) as work:
        for rel, text in files.items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            git("add", rel, cwd=work)
        if not git("status", "--porcelain", cwd=work).strip():
            return head(work)
        git("commit", "--quiet", "-m", message, cwd=work)
        return push(work, branch)


def revert(branch: str, commit: str, *, url: str | None = None, mainline: int = 0) -> str:
    extra = ["-m", str(mainline)] if mainline else []
    with checkout(branch, url) as work:
        git("revert", "--no-edit", *extra, commit, cwd=work, what=f"git revert {commit[:12]}")
        return push(work, branch)


def read_file(branch: str, rel: str, *, url: str | None = None) -> str | None:
    with checkout(branch, url) as work:
        path = work / rel
        return path.read_text() if path.exists() else None


def log(branch: str, count: int = 10, *, url: str | None = None) -> list[str]:
    with checkout(branch, url) as work:
        out = git("-C", str(work), "log", f"-{count}", "--format=%h %cI %s")
        return out.splitlines()
