"""Where things live: the repository, the cache (outside the clone) and run state."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: The repository root (this file is tools/hello_platform/core/paths.py).
REPO_ROOT = Path(__file__).resolve().parents[3]


def _home(override: str, xdg: str, default: str) -> Path:
    """``$override``, else ``$xdg/hello-platform``, else ``~/default/hello-platform``."""
    if os.environ.get(override):
        return Path(os.environ[override]).expanduser()
    base = os.environ.get(xdg)
    return (Path(base).expanduser() if base else Path.home() / default) / "hello-platform"


def cache_dir() -> Path:
    """``$HELLO_PLATFORM_CACHE`` or ``~/.cache/hello-platform``: outside the clone, so that a
    fresh clone (and CI) reuses built tools, images and wheels."""
    return _home("HELLO_PLATFORM_CACHE", "XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """Run state (cluster data, logs): ``$HELLO_PLATFORM_STATE`` or ``~/.local/state/...``."""
    return _home("HELLO_PLATFORM_STATE", "XDG_STATE_HOME", ".local/state")


def out_dir() -> Path:
    return REPO_ROOT / "out"


def link_latest(run_dir: Path) -> None:
    """Point ``<run_dir's parent>/latest`` at ``run_dir`` (best effort)."""
    latest = run_dir.parent / "latest"
    with contextlib.suppress(OSError):
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
