"""What passed in an environment: tags ``outcomes/<env>/sha256-<hex>/<UTC time>-passed``
(or ``-reverted``) on the release commit, beside the branches they point into (no branch
moves; ``git ls-remote`` reads them). Only a digest whose latest outcome passed is promoted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.gitops import gitserver

PASSED = "passed"
REVERTED = "reverted"
VERDICTS = (PASSED, REVERTED)
PREFIX = "outcomes"


@dataclass(frozen=True)
class Record:
    env: str
    digest: str
    verdict: str
    commit: str
    stamp: str


def key(digest: str) -> str:
    algo, sep, hexa = digest.partition(":")
    if not sep or not algo.isalnum() or not hexa.isalnum():
        raise PlatformError(f"{digest} is not an image digest (sha256:<hex>)")
    return f"{algo}-{hexa}"


def now_stamp() -> str:
    """UTC time to the microsecond: tags of one digest sort by it."""
    seconds, rest = divmod(time.time_ns(), 1_000_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds)) + f"{rest // 1000:06d}Z"


def write(env: str, digest: str, verdict: str, commit: str, *, url: str | None = None) -> Record:
    record = Record(env, digest, verdict, commit, now_stamp())
    name = f"{PREFIX}/{env}/{key(digest)}/{record.stamp}-{verdict}"
    # A lightweight tag is a ref to the commit: pushed from a bare clone of its branch.
    with gitserver.checkout(gitserver.env_branch(env), url, bare=True) as work:
        to = f"{commit}:refs/tags/{name}"
        gitserver.git("push", "--quiet", "origin", to, cwd=work, what=f"pushing the tag {name}")
    return record


def read(env: str, digest: str, *, url: str | None = None) -> list[Record]:
    where = gitserver.source(url)
    pattern = f"refs/tags/{PREFIX}/{env}/{key(digest)}/*"
    out = gitserver.git(
        "ls-remote", where, pattern, what=f"git ls-remote {gitserver.redact(where)}"
    )
    found = []
    for line in out.splitlines():
        commit, _, ref = line.partition("\t")
        stamp, _, verdict = ref.rsplit("/", 1)[-1].partition("-")
        if verdict in VERDICTS:
            found.append(Record(env, digest, verdict, commit, stamp))
    return sorted(found, key=lambda r: r.stamp)


def passed(env: str, digest: str, *, url: str | None = None) -> Record:
    found = read(env, digest, url=url)
    if not found:
        raise PlatformError(
            f"{digest} has not passed in environment '{env}' (no release of it there was "
            "seen Synced/Healthy)",
            hint=f"release it there first: nox -s release -- --env {env}",
        )
    last = found[-1]
    if last.verdict != PASSED:
        raise PlatformError(
            f"{digest} cannot be promoted: its last release in environment '{env}' "
            f"(commit {last.commit[:12]}) failed its checks and was reverted",
            hint="promote a digest whose release passed, or release a fixed one",
        )
    return last
