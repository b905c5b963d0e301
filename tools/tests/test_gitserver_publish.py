"""A source that clashes with the environment branch: the source wins outside the
environment's folder, which keeps the environment's releases (real git, no daemon)."""

from __future__ import annotations

from pathlib import Path

from hello_platform.pipeline.gitops import envs, gitserver
from hello_platform.pipeline.gitops.gitserver import git, git_ok

IMAGE = f"{envs.ENVS_DIR}/local/image.yaml"


def _commit(work: Path, files: dict[str, str], message: str) -> None:
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git("-C", str(work), "add", "-A")
    git("-C", str(work), "commit", "--quiet", "-m", message)


def test_a_clash_takes_the_source_and_keeps_the_environments_folder(tmp_path: Path) -> None:
    work = tmp_path / "w"
    git("init", "--quiet", "-b", "main", str(work))
    _commit(work, {"app.py": "a = 1\n", "gone.py": "c = 1\n", IMAGE: "digest: old\n"}, "base")
    git("-C", str(work), "checkout", "--quiet", "-b", "gitops/local")
    git("-C", str(work), "rm", "--quiet", "gone.py")  # modify/delete: -X theirs cannot settle it
    _commit(work, {"app.py": "a = 2  # another checkout\n", IMAGE: "digest: released\n"}, "env")
    git("-C", str(work), "checkout", "--quiet", "main")
    src = {
        "app.py": "a = 3\n",
        IMAGE: "digest: source\n",
        "new.py": "b = 1\n",
        "gone.py": "c = 2\n",
    }
    _commit(work, src, "src")
    git("-C", str(work), "checkout", "--quiet", "gitops/local")
    git("-C", str(work), "fetch", "--quiet", str(work), "main")
    assert not git_ok("-C", str(work), "merge", "--no-edit", "FETCH_HEAD")

    gitserver.source_wins(work, "local", "publish")

    assert (work / "app.py").read_text() == "a = 3\n"
    assert (work / "new.py").read_text() == "b = 1\n"
    assert (work / "gone.py").read_text() == "c = 2\n"
    assert (work / IMAGE).read_text() == "digest: released\n"
    assert not git("-C", str(work), "status", "--porcelain")
    parents = git("-C", str(work), "rev-list", "--parents", "-n1", "HEAD").split()
    assert len(parents) == 3  # a merge: the release history stays in git log
