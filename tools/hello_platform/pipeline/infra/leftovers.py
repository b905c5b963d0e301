"""What is left in the emulator after destroy, listed through boto3 (must be nothing)."""

from __future__ import annotations

import functools
from typing import Any

from hello_platform.pipeline.infra.emulator import CREDENTIALS

KMS_KEYS = "keys not pending deletion"
_NOT_AWS_ALIAS = "[?!starts_with(AliasName, 'alias/aws/')].AliasName"
_NOT_SERVICE_ROLE = "[?!starts_with(Path, '/aws-service-role/')].RoleName"
_NAT_NOT_DELETED = "[?State != 'deleted' && State != 'deleting'].NatGatewayId"
#: (service, what, call, its arguments, JMESPath to the names): what the modules create.
LISTERS: tuple[tuple[str, str, str, dict[str, str], str], ...] = (
    ("s3", "buckets", "list_buckets", {}, "Buckets[].Name"),
    ("kms", KMS_KEYS, "list_keys", {}, "Keys[].KeyId"),
    ("kms", "aliases", "list_aliases", {}, f"Aliases{_NOT_AWS_ALIAS}"),
    ("iam", "roles", "list_roles", {}, f"Roles{_NOT_SERVICE_ROLE}"),
    ("iam", "customer policies", "list_policies", {"Scope": "Local"}, "Policies[].PolicyName"),
    (
        "iam",
        "OIDC providers",
        "list_open_id_connect_providers",
        {},
        "OpenIDConnectProviderList[].Arn",
    ),
    ("ec2", "VPCs (not default)", "describe_vpcs", {}, "Vpcs[?!IsDefault].VpcId"),
    ("ec2", "NAT gateways", "describe_nat_gateways", {}, f"NatGateways{_NAT_NOT_DELETED}"),
    ("ec2", "Elastic IPs", "describe_addresses", {}, "map(&(AllocationId || ''), Addresses)"),
    (
        "ec2",
        "launch templates",
        "describe_launch_templates",
        {},
        "LaunchTemplates[].LaunchTemplateName",
    ),
    ("ec2", "flow logs", "describe_flow_logs", {}, "FlowLogs[].FlowLogId"),
    ("eks", "clusters", "list_clusters", {}, "clusters"),
    ("ecr", "repositories", "describe_repositories", {}, "repositories[].repositoryName"),
    ("logs", "log groups", "describe_log_groups", {}, "logGroups[].logGroupName"),
)


@functools.cache
def _client(service: str, url: str, region: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _customer_key(kms: Any, key: str) -> bool:
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    return bool(meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] != "PendingDeletion")


def listing(url: str, region: str) -> dict[str, list[str]]:
    import jmespath  # type: ignore[import-untyped]

    found: dict[str, list[str]] = {}
    for service, what, call, arguments, names in LISTERS:
        client = _client(service, url, region)
        listed = list(jmespath.search(names, getattr(client, call)(**arguments)) or [])
        if what == KMS_KEYS:
            listed = [key for key in listed if _customer_key(client, key)]
        found[f"{service} {what}"] = listed
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
