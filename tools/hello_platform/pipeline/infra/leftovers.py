"""What is left in the emulator after destroy, listed through boto3 (must be nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hello_platform.pipeline.infra.emulator import CREDENTIALS


def _client(service: str, url: str, region: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _kms_keys(kms: Any) -> list[str]:
    keys = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    states = {k: kms.describe_key(KeyId=k)["KeyMetadata"] for k in keys}
    return [
        k
        for k, meta in states.items()
        if meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] != "PendingDeletion"
    ]


#: service -> (what, lister): the kinds of resource the modules create.
LISTERS: dict[str, list[tuple[str, Callable[[Any], list[str]]]]] = {
    "s3": [("buckets", lambda c: [b["Name"] for b in c.list_buckets()["Buckets"]])],
    "kms": [
        ("keys not pending deletion", _kms_keys),
        (
            "aliases",
            lambda c: [
                a["AliasName"]
                for a in c.list_aliases()["Aliases"]
                if not a["AliasName"].startswith("alias/aws/")
            ],
        ),
    ],
    "iam": [
        (
            "roles",
            lambda c: [
                r["RoleName"]
                for r in c.list_roles()["Roles"]
                if not r["Path"].startswith("/aws-service-role/")
            ],
        ),
        (
            "customer policies",
            lambda c: [p["PolicyName"] for p in c.list_policies(Scope="Local")["Policies"]],
        ),
        (
            "OIDC providers",
            lambda c: [
                p["Arn"] for p in c.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            ],
        ),
    ],
    "ec2": [
        (
            "VPCs (not default)",
            lambda c: [v["VpcId"] for v in c.describe_vpcs()["Vpcs"] if not v["IsDefault"]],
        ),
        (
            "NAT gateways",
            lambda c: [
                n["NatGatewayId"]
                for n in c.describe_nat_gateways()["NatGateways"]
                if n["State"] not in ("deleted", "deleting")
            ],
        ),
        (
            "Elastic IPs",
            lambda c: [a.get("AllocationId", "") for a in c.describe_addresses()["Addresses"]],
        ),
        (
            "launch templates",
            lambda c: [
                t["LaunchTemplateName"] for t in c.describe_launch_templates()["LaunchTemplates"]
            ],
        ),
        ("flow logs", lambda c: [f["FlowLogId"] for f in c.describe_flow_logs()["FlowLogs"]]),
    ],
    "eks": [("clusters", lambda c: list(c.list_clusters()["clusters"]))],
    "ecr": [
        (
            "repositories",
            lambda c: [r["repositoryName"] for r in c.describe_repositories()["repositories"]],
        )
    ],
    "logs": [
        ("log groups", lambda c: [g["logGroupName"] for g in c.describe_log_groups()["logGroups"]])
    ],
}


def listing(url: str, region: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for service, listers in LISTERS.items():
        client = _client(service, url, region)
        for what, lister in listers:
            found[f"{service} {what}"] = lister(client)
    return found


def empty_bucket(url: str, region: str, bucket: str) -> int:
    """Delete every object version and delete marker of ``bucket``; return how many."""
    s3 = _client("s3", url, region)
    listed = s3.list_object_versions(Bucket=bucket)
    items = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    ]
    if items:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": items})
    return len(items)
