"""An add-on's manifests from upstream's kustomize tree and an overlay of ours, rendered
with the pinned ``kubectl kustomize``."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.substrate.cluster import binaries


def kustomize(work: Path, upstream: Path, overlay: Mapping[str, Any], *, what: str) -> str:
    """Copy ``upstream`` into ``work``, write ``overlay`` (file name -> document) into
    ``work/overlay`` and render it."""
    tree = work / upstream.name
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(upstream, tree, copy_function=shutil.copyfile)
    (work / "overlay").mkdir(parents=True, exist_ok=True)
    for name, doc in overlay.items():
        (work / "overlay" / name).write_text(json.dumps(doc, indent=2) + "\n")
    done = subprocess.run(
        [str(binaries.tool("kubectl")), "kustomize", str(work / "overlay")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise PlatformError(
            f"kubectl kustomize of {what} failed: {last_line(done.stderr)}",
            hint=f"the overlay is {work / 'overlay' / 'kustomization.yaml'}",
        )
    return done.stdout
