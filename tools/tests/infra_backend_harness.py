"""The S3 backend test's harness: a provider-free layer applied through the envs' real
backend settings against moto (OpenTofu's S3 backend is built in: no provider needed).

:func:`prepare_bucket` plays the state layer: a versioned bucket with default SSE-KMS and
the key alias that backend.hcl names.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from hello_platform.pipeline.infra import tofu as tf
from hello_platform.pipeline.infra.backend import Backend, override_file
from hello_platform.pipeline.infra.emulator import CREDENTIALS

#: The provider-free stand-in of a layer: one built-in resource whose apply can be held
#: (``hold_seconds``) so a second, concurrent apply meets the lock.
CONFIG = """\
terraform {
  backend "s3" {}
}

variable "revision" {
  type = string
}

variable "hold_seconds" {
  type    = number
  default = 0
}

resource "terraform_data" "layer" {
  input = var.revision

  provisioner "local-exec" {
    command = "sleep ${var.hold_seconds}"
  }
}

output "revision" {
  value = terraform_data.layer.output
}
"""


def s3_client(backend: Backend) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=backend.endpoint,
        region_name=backend.region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def prepare_bucket(backend: Backend) -> str:
    """Create what the state layer would: a KMS key with backend.hcl's alias, the bucket,
    versioning and default SSE-KMS. Returns the key's ARN."""
    import boto3

    kms = boto3.client(
        "kms",
        endpoint_url=backend.endpoint,
        region_name=backend.region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    key_arn = str(kms.create_key(Description="state")["KeyMetadata"]["Arn"])
    kms.create_alias(AliasName=str(backend.settings["kms_key_id"]), TargetKeyId=key_arn)
    s3 = s3_client(backend)
    s3.create_bucket(
        Bucket=backend.bucket, CreateBucketConfiguration={"LocationConstraint": backend.region}
    )
    s3.put_bucket_versioning(Bucket=backend.bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=backend.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return key_arn


def write_config(workdir: Path, backend: Backend) -> Path:
    """The provider-free configuration and the moto override in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(CONFIG)
    (workdir / "moto.s3.tfbackend").write_text(override_file(backend))
    return workdir


def init(tofu: Path, workdir: Path, backend: Backend, env_name: str) -> tf.Result:
    """``tofu init`` with the environment's backend.hcl, the layer's key and the override."""
    backend_hcl = tf.ENVS_DIR / env_name / "backend.hcl"
    return tf.run(
        tofu,
        [
            "init",
            "-input=false",
            "-no-color",
            f"-backend-config={backend_hcl}",
            f"-backend-config=key={backend.key}",
            "-backend-config=moto.s3.tfbackend",
        ],
        cwd=workdir,
        env=CREDENTIALS,
        timeout=120,
    )


def apply_args(revision: str, hold_seconds: int = 0) -> list[str]:
    return [
        "apply",
        "-input=false",
        "-no-color",
        "-auto-approve",
        "-lock-timeout=0s",
        f"-var=revision={revision}",
        f"-var=hold_seconds={hold_seconds}",
    ]


def apply(tofu: Path, workdir: Path, revision: str) -> tf.Result:
    return tf.run(tofu, apply_args(revision), cwd=workdir, env=CREDENTIALS, timeout=120)


def start_apply(
    tofu: Path, workdir: Path, revision: str, hold_seconds: int
) -> subprocess.Popen[str]:
    """An apply that holds the state lock for ``hold_seconds`` (running in the background)."""
    env = tf.tofu_env({"TF_DATA_DIR": str(tf.data_dir(workdir)), **CREDENTIALS})
    return subprocess.Popen(
        [str(tofu), f"-chdir={workdir}", *apply_args(revision, hold_seconds)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def state_object(backend: Backend) -> dict[str, Any]:
    """HEAD of the state object: its encryption, KMS key and version."""
    head: dict[str, Any] = s3_client(backend).head_object(Bucket=backend.bucket, Key=backend.key)
    return head


def versions(backend: Backend) -> list[str]:
    """Version IDs of the state object, newest first."""
    listing = s3_client(backend).list_object_versions(Bucket=backend.bucket, Prefix=backend.key)
    return [v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == backend.key]


def lock_exists(backend: Backend) -> bool:
    """Whether the ``.tflock`` object of the state exists."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        s3_client(backend).head_object(Bucket=backend.bucket, Key=f"{backend.key}.tflock")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def state_revision(backend: Backend) -> str:
    """The ``revision`` output recorded in the state object."""
    body = s3_client(backend).get_object(Bucket=backend.bucket, Key=backend.key)["Body"].read()
    return str(json.loads(body)["outputs"]["revision"]["value"])
