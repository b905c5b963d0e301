"""``hello-platform tools``: provision pinned tools and show where each came from."""

from __future__ import annotations

import argparse
import json
import time

from hello_platform.core.errors import PlatformError
from hello_platform.toolchain.resolver import Resolution, Resolver, tools_root

USAGE = "hello-platform tools [NAMES...] [--json] [--no-build] | tools path NAME"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tools",
        help="provision the pinned tools (PATH, cache or build) and list them",
        description="Provision the tools pinned in toolchain.toml: a PATH binary of the pinned "
        "version, else the cache, else a build from source. 'tools path NAME' prints one "
        "binary's path.",
        usage=USAGE,
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="tools or binaries (default: all); or 'path NAME'"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="fail instead of building what is not provisioned yet",
    )
    parser.set_defaults(func=run)


def table(results: list[Resolution]) -> str:
    rows = [("TOOL", "BINARY", "VERSION", "FROM", "PATH")]
    for r in results:
        source = r.source
        if r.source == "built now" and r.build_seconds is not None:
            source = f"built now ({r.build_seconds:.0f}s, {r.peak_rss_mib or 0:.0f} MiB peak)"
        rows.append((r.tool, r.binary, r.version, source, str(r.path)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)), row[4]])
        for row in rows
    ]
    notes = sorted({s for r in results for s in r.skipped})
    lines += [f"note: skipped {s}" for s in notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    names: list[str] = list(args.names)
    resolver = Resolver(build=not args.no_build)
    if names and names[0] == "path":
        if len(names) != 2:
            raise PlatformError("'tools path' takes exactly one NAME", hint=f"usage: {USAGE}")
        print(resolver.resolve(names[1]))
        return 0
    chosen = resolver.pins.select(names)
    start = time.monotonic()
    results: list[Resolution] = []
    for i, (tool, binaries) in enumerate(chosen, 1):
        results += resolver.resolve_tool(
            tool.name, label=f"[{i}/{len(chosen)}] ", binaries=binaries
        )
    elapsed = time.monotonic() - start
    if args.json:
        tools = [r.as_json() for r in results]
        doc = {"seconds": round(elapsed, 3), "cache": str(tools_root()), "tools": tools}
        print(json.dumps(doc, indent=2))
    else:
        print(table(results))
        print(f"resolved {len(results)} binaries of {len(chosen)} tools in {elapsed:.2f}s")
    return 0
