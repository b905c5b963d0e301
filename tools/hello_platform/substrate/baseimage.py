"""The service image's base, made from Debian's archive (no container registry is reachable):
debootstrap bookworm minbase with Python 3.11, updated, slimmed, ``docker import``-ed; a
``build`` sibling keeps binutils. The tag hashes the recipe; root tarballs are cached."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.toolchain import debextract
from hello_platform.toolchain.apt import ensure_debian_packages

#: Plain HTTP is fine: apt and debootstrap check the archive's signatures.
SUITE = "bookworm"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"

INCLUDE: tuple[str, ...] = ("python3",)

#: The build stages' ``strip`` for wheels' debug symbols (uvloop: 13 MB -> under 2 MB).
BUILD_TOOLS: tuple[str, ...] = ("binutils",)

#: Not needed to *run* Python (the image is rebuilt, never changed in place); after the
#: ``--force-depends`` purge, the recipe checks the libraries of :data:`_MUST_RUN`.
PURGE: tuple[str, ...] = (
    "apt",
    "libapt-pkg6.0",
    "gpgv",
    "debian-archive-keyring",
    "libgnutls30",
    "libp11-kit0",
    "libtasn1-6",
    "libnettle8",
    "libhogweed6",
    "libidn2-0",
    "libunistring2",
    "libstdc++6",
    "e2fsprogs",
    "libext2fs2",
    "libss2",
    "logsave",
    "adduser",
    "passwd",
    "libsemanage2",
    "libsemanage-common",
    "libsepol2",
    "debconf",
    "perl-base",
)

DELETE: tuple[str, ...] = (
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/linda",
    "usr/share/bug",
    "usr/share/common-licenses",
    "var/lib/apt",
    "var/cache/apt",
    "var/cache/debconf",
    "var/cache/ldconfig/aux-cache",
    "var/lib/dpkg/*-old",
    "var/log/*",
    "etc/apt",
    "etc/machine-id",
    "root/.bash_history",
)

#: Bump when the steps themselves change.
RECIPE_VERSION = 2

REPOSITORY = "hello-platform/python"
PYTHON_VERSION = "3.11"

_MUST_RUN = ("/usr/bin/python3.11", "/usr/bin/dash", "/usr/bin/ls")


def recipe_key() -> str:
    recipe = {
        "suite": SUITE,
        "include": INCLUDE,
        "purge": PURGE,
        "delete": DELETE,
        "build_tools": BUILD_TOOLS,
        "version": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def image_name(key: str | None = None, *, flavour: str = "slim") -> str:
    """``hello-platform/python:3.11-slim-bookworm-<key>`` (``build`` for the build stages)."""
    return f"{REPOSITORY}:{PYTHON_VERSION}-{flavour}-{SUITE}-{key or recipe_key()}"


def sources_list(mirror: str) -> str:
    return (
        f"deb {mirror} {SUITE} main\n"
        f"deb {mirror} {SUITE}-updates main\n"
        f"deb {SECURITY_MIRROR} {SUITE}-security main\n"
    )


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise PlatformError(
            "the docker command was not found", hint="run `nox -s build` (it provides one)"
        ) from err


def image_exists(ref: str) -> bool:
    return _docker("image", "inspect", "--format", "{{.Id}}", ref).returncode == 0


def forget_old_bases(keep: Sequence[str]) -> None:
    listed = _docker("image", "ls", REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}")
    for ref in listed.stdout.split():
        if ref not in keep and ref.startswith(f"{REPOSITORY}:{PYTHON_VERSION}-"):
            _docker("image", "rm", ref)


def _chroot(root: Path, command: str, *packages: str, what: str, log: Path) -> None:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LC_ALL": "C",
        "HOME": "/root",
    }
    proc.run(
        ["chroot", root, *command.split(), *packages],
        what=what,
        log=log,
        env=env,
        hint="see the log; a network problem with Debian's archive is the usual cause",
    )


def _missing_libraries(root: Path, binaries: Sequence[str], log: Path) -> list[str]:
    missing: list[str] = []
    for binary in binaries:
        done = subprocess.run(
            ["chroot", root, "/usr/bin/ldd", binary],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        with log.open("a") as fh:
            fh.write(f"$ ldd {binary}\n{done.stdout}{done.stderr}")
        missing += [
            f"{binary}: {line.strip()}" for line in done.stdout.splitlines() if "not found" in line
        ]
    return missing


def _unmount_below(root: Path) -> None:
    """Unmount what a failed debootstrap left mounted under ``root``."""
    prefix = str(root.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for target in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", target], check=False, capture_output=True)


def bootstrap(root: Path, log: Path) -> None:
    mirror = debextract.mirror()
    with step(f"debootstrap --variant=minbase {SUITE} (Python {PYTHON_VERSION}) from {mirror}"):
        proc.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(INCLUDE)}",
                SUITE,
                root,
                mirror,
            ],
            what="debootstrap",
            log=log,
            timeout=1200,
            hint=f"check that {mirror} is reachable (or set HELLO_PLATFORM_DEBIAN_MIRROR)",
        )
    with step("applying Debian security and point-release updates"):
        (root / "etc/apt/sources.list").write_text(sources_list(mirror))
        _chroot(root, "apt-get update -q", what="apt-get update in the base", log=log)
        _chroot(
            root,
            "apt-get -y -q -o Dpkg::Options::=--force-confold upgrade",
            what="apt-get upgrade in the base",
            log=log,
        )


def add_build_tools(root: Path, log: Path) -> None:
    with step(f"adding {', '.join(BUILD_TOOLS)} to the build stages' base"):
        _chroot(
            root,
            "apt-get install -y -q --no-install-recommends",
            *BUILD_TOOLS,
            what="apt-get install of the build tools",
            log=log,
        )
        _chroot(root, "apt-get clean", what="apt-get clean", log=log)
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)


def slim(root: Path, log: Path) -> None:
    with step("slimming the base (purge apt, perl, debconf; drop docs, man pages, locales)"):
        _chroot(
            root,
            "dpkg --purge --force-depends --force-remove-essential",
            *PURGE,
            what="purging packages from the base",
            log=log,
        )
        for pattern in DELETE:
            for found in root.glob(pattern):
                if found.is_dir() and not found.is_symlink():
                    shutil.rmtree(found)
                else:
                    found.unlink()
        doc = root / "usr/share/doc"
        for found in doc.rglob("*"):
            if found.is_file() and found.name != "copyright":
                found.unlink()
        dropped = drop_setid_bits(root)
        with log.open("a") as fh:
            fh.write("setuid/setgid bits dropped: " + " ".join(dropped) + "\n")
        missing = _missing_libraries(root, _MUST_RUN, log)
        if missing:
            raise PlatformError(
                "the slimmed base lost shared libraries it needs: " + "; ".join(missing),
                hint="remove the package that provides them from baseimage.PURGE",
                log=str(log),
            )


def drop_setid_bits(root: Path) -> list[str]:
    """Clear setuid/setgid bits under ``root``; the paths changed, relative to it."""
    changed = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
                path.chmod(stat.S_IMODE(mode) & ~(stat.S_ISUID | stat.S_ISGID))
                changed.append(str(path.relative_to(root)))
    return sorted(changed)


def _pack(root: Path, tarball: Path, log: Path) -> None:
    partial = tarball.with_suffix(".tar.partial")
    excludes = [f"--exclude=./{below}/*" for below in ("dev", "proc", "sys")]
    proc.run(
        ["tar", "-C", root, "--numeric-owner", *excludes, "-cf", partial, "."],
        what="packing a root file system",
        log=log,
    )
    partial.replace(tarball)


def import_rootfs(tarball: Path, ref: str, log: Path) -> None:
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
        "LABEL org.opencontainers.image.title=python"
        f" org.opencontainers.image.version={PYTHON_VERSION}"
        f" org.opencontainers.image.description=Debian-{SUITE}-minbase-slim-with-python3"
        f" org.opencontainers.image.base.name=debootstrap:{SUITE}",
    ]
    args = [arg for change in changes for arg in ("--change", change)]
    proc.run(
        ["docker", "import", *args, tarball, ref], what="docker import of the base image", log=log
    )


@dataclass(frozen=True)
class BaseImages:
    runtime: str
    builder: str


def ensure_base(*, refresh: bool = False) -> BaseImages:
    key = recipe_key()
    images = BaseImages(runtime=image_name(key), builder=image_name(key, flavour="build"))
    if not refresh and image_exists(images.runtime) and image_exists(images.builder):
        say(f"base image {images.runtime}: present (made earlier from Debian's archive)")
        return images
    cache = paths.cache_dir() / "base"
    cache.mkdir(parents=True, exist_ok=True)
    tarballs = {
        images.runtime: cache / f"{key}-slim.tar",
        images.builder: cache / f"{key}-build.tar",
    }
    log = cache / "base.log"
    say(
        "no container registry is reachable here, so the base image is made from Debian's "
        f"archive: {images.runtime} (and {images.builder} for the build stages)"
    )
    if refresh or not all(t.exists() for t in tarballs.values()):
        if os.geteuid() != 0:
            raise PlatformError(
                "creating the base image with debootstrap needs root",
                hint="run the build as root once; later builds reuse it",
            )
        ensure_debian_packages(["debootstrap"], why="the base image")
        with tempfile.TemporaryDirectory(prefix="base-", dir=cache) as tmp:
            root = Path(tmp) / "root"
            builder = Path(tmp) / "builder"
            try:
                bootstrap(root, log)
                proc.run(["cp", "-a", root, builder], what="copying the root", log=log)
                add_build_tools(builder, log)
                _pack(builder, tarballs[images.builder], log)
                slim(root, log)
                _pack(root, tarballs[images.runtime], log)
            finally:
                _unmount_below(root)
                _unmount_below(builder)
    else:
        say(f"re-importing the cached root file systems from {cache}")
    for ref, tarball in tarballs.items():
        with step(f"docker import {ref}"):
            import_rootfs(tarball, ref, log)
    keep = set(tarballs.values())
    for old in cache.glob("*.tar"):
        if old not in keep:
            old.unlink()
    forget_old_bases([images.runtime, images.builder])
    return images
