"""The pinned toolchain (``toolchain.toml``): ``resolve("kubectl")`` gives a binary's path,
building it once; ``bin_dir(names)`` a directory of symlinks to prepend to PATH."""

from __future__ import annotations

from hello_platform.toolchain.pins import Binary, Pins, Tool, load
from hello_platform.toolchain.resolver import Resolution, Resolver, bin_dir, resolve

__all__ = ["Binary", "Pins", "Resolution", "Resolver", "Tool", "bin_dir", "load", "resolve"]
