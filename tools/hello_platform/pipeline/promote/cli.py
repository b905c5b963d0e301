"""``hello-platform promote``: the flags."""

from __future__ import annotations

import argparse

from hello_platform.clients import oci
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.gitops import lifecycle, outcome
from hello_platform.pipeline.image import cli as image_cli
from hello_platform.pipeline.image import target as image_target
from hello_platform.pipeline.image.builder import local_registry
from hello_platform.pipeline.promote import promotion


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "promote", help="commit the digest that passed in one GitOps environment into the next"
    )
    p.add_argument("--from", dest="source", metavar="ENV", help="where it passed (required)")
    p.add_argument("--to", dest="target", metavar="ENV", help="where it goes (required)")
    p.add_argument(
        "--digest",
        metavar="sha256:HEX",
        help="the digest to promote (default: the one the --from environment runs)",
    )
    p.add_argument("--git-url", help="GitOps repository (default: the local mirror)")
    p.add_argument(
        "--from-registry-ca",
        metavar="PEM",
        help="CA bundle of the source registry's TLS certificate (its login: Docker's)",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="watch the --to environment's Application until Synced/Healthy at the commit "
        "(else revert it), and record the outcome as the release loop does",
    )
    p.add_argument("--timeout", type=float, default=300, help="seconds for --wait")
    p.add_argument("--kubeconfig", help="the --to environment's cluster (default: embedded)")
    image_cli.add_registry_arguments(p)
    p.set_defaults(func=run_promote)


def registries(args: argparse.Namespace, target: str) -> promotion.Registries:
    """The source registry (by the host its image names; Docker's login) and the target."""

    def source(host: str) -> oci.Registry:
        return image_target.resolve(host, ca_file=args.from_registry_ca) or local_registry(False)

    dst = image_cli.registry_of(args, target) or local_registry(False)
    return promotion.Registries(source, dst)


def run_promote(args: argparse.Namespace) -> int:
    if not (args.source and args.target):
        raise PlatformError(
            "promote needs both --from ENV and --to ENV",
            hint=f"the environments are declared in {promotion.ENVIRONMENTS}",
        )
    src_env, dst_env = promotion.pair(args.source, args.target)
    done = promotion.promote(
        src_env,
        dst_env,
        registries(args, dst_env.registry),
        digest=args.digest,
        url=args.git_url,
    )
    result = None
    if args.wait:
        result = promotion.own(
            dst_env, done, kubeconfig=args.kubeconfig, timeout=args.timeout, url=args.git_url
        )
    figures = {**done.to_json(), "outcome": result.to_json() if result else None}
    lifecycle.write_figures("promote.json", figures)
    if result is not None and not result.ok:
        raise outcome.failed(result)
    copied = done.copied
    how = (
        f"copied {copied.bytes_copied / 1e6:.1f} of {copied.bytes_total / 1e6:.1f} MB "
        f"in {copied.seconds}s, verified"
        if copied
        else "same registry, nothing copied"
    )
    print(
        f"promoted {done.digest} from {done.source_env} to {done.target_env} "
        f"({how}): commit {done.commit[:12]} on {dst_env.branch}"
        + (f", healthy after {result.commit_to_healthy_seconds}s" if result else "")
    )
    return 0
