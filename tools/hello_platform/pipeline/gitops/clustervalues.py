"""``gitops cluster-values``: ``tofu output -json`` of the cluster layer as one values file
per Application in ``envs/<env>/cluster`` (committed: git is where Argo CD reads them)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import run
from hello_platform.pipeline.gitops import envs

IRSA = "eks.amazonaws.com/role-arn"
REQUIRED = ("cluster_name", "region", "vpc_id", "cluster_autoscaler_role_arn")
#: The controller's role, once the cluster layer outputs one (see deploy/argocd/README.md).
LBC_ROLE = "aws_load_balancer_controller_role_arn"
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
HEADER = (
    "# Written by `hello-platform gitops cluster-values --env {env}` from `tofu output -json`\n"
    "# of infra/terraform's cluster layer: the cluster's facts, not edited by hand.\n"
)


def read_outputs(text: str) -> dict[str, Any]:
    """``{name: {"value": ...}}`` as ``{name: value}``, the required outputs present."""
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise PlatformError(f"the outputs are not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise PlatformError("the outputs are not a JSON object of `tofu output -json`")
    values = {k: v.get("value") if isinstance(v, dict) else v for k, v in raw.items()}
    missing = [k for k in REQUIRED if not values.get(k)]
    if missing:
        raise PlatformError(
            f"the outputs lack {', '.join(missing)}",
            hint="give `tofu output -json` of the cluster layer (infra/terraform/envs/ENV/cluster)",
        )
    return values


def cluster_values(outputs: Mapping[str, Any], acm_certificate_arn: str | None) -> dict[str, Any]:
    if acm_certificate_arn and not ACM_ARN.match(acm_certificate_arn):
        raise PlatformError(f"{acm_certificate_arn} is not an ACM certificate ARN")
    name, region = outputs["cluster_name"], outputs["region"]
    lbc: dict[str, Any] = {"clusterName": name, "region": region, "vpcId": outputs["vpc_id"]}
    if outputs.get(LBC_ROLE):
        lbc["serviceAccount"] = {"annotations": {IRSA: outputs[LBC_ROLE]}}
    hello: dict[str, Any] = {}
    if acm_certificate_arn:
        hello = {"ingress": {"certificateArn": acm_certificate_arn}}
    return {
        "cluster-autoscaler": {
            "autoDiscovery": {"clusterName": name},
            "awsRegion": region,
            "rbac": {
                "serviceAccount": {"annotations": {IRSA: outputs["cluster_autoscaler_role_arn"]}}
            },
        },
        "aws-load-balancer-controller": lbc,
        "hello": hello,
    }


def write(env: str, values: Mapping[str, Any], root: Path = paths.REPO_ROOT) -> list[Path]:
    target = envs.env_dir(env, root) / "cluster"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in values.items():
        path = target / f"{name}.yaml"
        text = HEADER.format(env=env) + (yaml.safe_dump(body, sort_keys=True) if body else "{}\n")
        path.write_text(text)
        written.append(path)
    return written


def commit(env: str, files: list[Path], root: Path = paths.REPO_ROOT) -> str:
    """Commit only ``files``; the new commit, or "" when unchanged."""
    names = [str(f.relative_to(root)) for f in files]
    run(["git", "add", "--", *names], what="git add", cwd=root)
    changed = run(
        ["git", "diff", "--cached", "--name-only", "--", *names],
        what="git diff",
        cwd=root,
        capture=True,
    )
    if not changed.strip():
        return ""
    message = f"gitops({env}): cluster values from the cluster layer's outputs"
    run(["git", "commit", "-q", "-m", message, "--", *names], what="git commit", cwd=root)
    return run(["git", "rev-parse", "HEAD"], what="git rev-parse", cwd=root, capture=True).strip()
