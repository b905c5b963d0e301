"""Integration: really build a small pinned Go tool from source into a throw-away cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hello_platform.toolchain import gobuild, load
from hello_platform.toolchain.resolver import Resolver


@pytest.mark.slow
def test_builds_kubeconform_from_the_module_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gobuild.find_go() is not None, "Go is needed to build the pinned tools"
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no kubeconform on PATH: force a build
    pins = load()
    (res,) = Resolver(pins=pins).resolve_tool("kubeconform")
    assert res.source == "built now"
    version = subprocess.run([res.path, "-v"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == pins.tools["kubeconform"].version
    vdir = tmp_path / "cache/tools/kubeconform" / pins.tools["kubeconform"].version
    assert (vdir / "build.log").is_file() and (vdir / "src/go.mod").is_file()
    assert not list(vdir.parent.glob(".tmp-*"))
    (again,) = Resolver(pins=pins).resolve_tool("kubeconform")
    assert again.source == "cache" and again.path == res.path
