"""The pinned toolchain: every external tool, pinned once in ``toolchain.toml``.

Other modules get a binary's path with one call, building it on demand::

    from hello_platform.toolchain import resolve
    kubectl = resolve("kubectl")  # pathlib.Path; raises PlatformError

``bin_dir(["kubernetes", "etcd"])`` gives a directory of symlinks to prepend to PATH.
The CLI (``cli.py``) is ``hello-platform tools [NAMES...] [--json]`` and
``hello-platform tools path NAME``; ``nox -s tools`` provisions them all.
"""

from __future__ import annotations

from hello_platform.toolchain.pins import Binary, Pins, Tool, load
from hello_platform.toolchain.resolver import Resolution, Resolver, bin_dir, resolve

__all__ = [
    "Binary",
    "Pins",
    "Resolution",
    "Resolver",
    "Tool",
    "bin_dir",
    "load",
    "resolve",
]
