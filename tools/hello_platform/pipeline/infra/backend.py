"""The envs' real S3 backend settings (``backend.hcl``, the layer's key), pointed at moto."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hello_platform.pipeline.infra import tofu as tf


@dataclass(frozen=True)
class Backend:
    settings: Mapping[str, str | bool]
    key: str
    endpoint: str

    @property
    def bucket(self) -> str:
        return str(self.settings["bucket"])

    @property
    def region(self) -> str:
        return str(self.settings["region"])


def for_layer(env: str, layer: str, endpoint: str) -> Backend:
    settings = tf.parse_backend_hcl(tf.ENVS_DIR / env / "backend.hcl")
    key = tf.backend_key(tf.layer_dir(env, layer) / "backend.tf")
    return Backend(settings, key, endpoint)


def override_file(backend: Backend) -> str:
    url = backend.endpoint
    return (
        f'endpoints = {{\n  s3  = "{url}"\n  sts = "{url}"\n  iam = "{url}"\n}}\n'
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        "skip_region_validation      = true\n"
        "use_path_style              = true\n"
    )
