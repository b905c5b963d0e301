"""The deploy's arguments (:class:`Options`, checked by :func:`options`) and the image."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hello_platform.clients import oci
from hello_platform.core import catalogue
from hello_platform.core import cli as shared
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm
from hello_platform.pipeline.helm.chart import parse_set
from hello_platform.pipeline.image import cli as image_cli

DEFAULT_TIMEOUT = 300


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_IMAGE_REF = re.compile(
    r"(?P<repo>[a-z0-9][a-z0-9._:/-]*?):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
    r"(@(?P<digest>sha256:[a-f0-9]{64}))?"
)


class Image(Protocol):
    """What the deploy needs of ``image.ImageRef``."""

    @property
    def registry(self) -> str: ...
    @property
    def repository(self) -> str: ...
    @property
    def tag(self) -> str: ...
    @property
    def digest(self) -> str | None: ...
    @property
    def ref(self) -> str: ...


@dataclass(frozen=True)
class Options:
    """The deploy's arguments, validated by :func:`options`. An empty namespace or release
    is the service's (its catalogue entry)."""

    service: Service = field(default_factory=catalogue.service)
    kubeconfig: Path | None = None
    context: str | None = None
    profile: str = "local"
    values: tuple[Path, ...] = ()
    sets: tuple[str, ...] = ()
    namespace: str = ""
    release: str = ""
    timeout: int = DEFAULT_TIMEOUT
    run_tests: bool = True
    #: A pushed image to release instead of building one (e.g. for EKS, from ECR).
    image: str | None = None
    #: The registry pushed to and pulled from (None: the local one).
    registry: oci.Registry | None = None
    #: The name of the pull Secret made from the given login ("" when none was given).
    pull_secret: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "namespace", self.namespace or self.service.namespace)
        object.__setattr__(self, "release", self.release or self.service.release)


def options(args: argparse.Namespace) -> Options:
    """Check the parsed arguments; a PlatformError names the first bad one."""
    service = shared.service(args)
    helm.profile_files(service, args.profile)
    kubeconfig = Path(args.kubeconfig).expanduser() if args.kubeconfig else None
    if kubeconfig is not None and not kubeconfig.is_file():
        raise PlatformError(
            f"--kubeconfig {kubeconfig} is not a file",
            hint="pass the path of an existing kubeconfig, or omit it to "
            "deploy to the embedded local cluster",
        )
    if args.context and kubeconfig is None:
        raise PlatformError(
            "--context needs --kubeconfig", hint="the embedded cluster's kubeconfig has one context"
        )
    values = tuple(Path(v).expanduser() for v in args.values)
    for v in values:
        if not v.is_file():
            raise PlatformError(
                f"values file {v} does not exist", hint="pass the path of an existing YAML file"
            )
    for item in args.sets:
        parse_set(item)
    namespace, release = args.namespace or service.namespace, args.release or service.release
    for what, name in (("--namespace", namespace), ("--release", release)):
        if not _DNS_LABEL.fullmatch(name) or len(name) > 53:
            raise PlatformError(
                f"{what} '{name}' is not a valid name",
                hint="use lower-case letters, digits and '-' (at most 53)",
            )
    if args.image and not _IMAGE_REF.fullmatch(args.image):
        raise PlatformError(
            f"--image {args.image} is not of the form REPOSITORY:TAG[@sha256:DIGEST]",
            hint="e.g. --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/"
            f"{service.repository}:0.1.0-abc1234",
        )
    if not 10 <= args.timeout <= 3600:
        raise PlatformError(
            f"--timeout {args.timeout} is out of range", hint="give seconds between 10 and 3600"
        )
    given_host = _image_host(args.image) if args.registry_username or args.registry_ca else None
    registry = image_cli.registry_of(args, given_host)
    pull_secret = f"{release}-registry" if args.registry_username else ""
    return Options(
        service=service,
        kubeconfig=kubeconfig,
        context=args.context or None,
        profile=args.profile,
        values=values,
        sets=tuple(args.sets),
        namespace=namespace,
        release=release,
        timeout=args.timeout,
        run_tests=not args.no_test,
        image=args.image or None,
        registry=registry,
        pull_secret=pull_secret,
    )


def _image_host(image: str | None) -> str | None:
    """The registry host of ``--image`` (its first path part when it has a dot, a colon or
    is localhost, as Docker reads it), or None."""
    first, sep, _ = (image or "").partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


@dataclass(frozen=True)
class GivenImage:
    """An image named by ``--image`` (already pushed somewhere the cluster can pull from);
    its whole repository, registry host included, is kept in ``repository``."""

    registry: str
    repository: str
    tag: str
    digest: str | None

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"

    @classmethod
    def parse(cls, text: str) -> GivenImage:
        m = _IMAGE_REF.fullmatch(text)
        if not m:
            raise PlatformError(f"--image {text} is not of the form REPOSITORY:TAG[@DIGEST]")
        return cls("", m["repo"], m["tag"], m["digest"])
