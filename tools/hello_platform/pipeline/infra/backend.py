"""The envs' real S3 backend settings, pointed at moto for the emulated account.

A layer's backend is configured from the environment's own ``backend.hcl`` and the layer's
own key; :func:`override_file` only points the endpoints at moto, skips the AWS credential
checks and uses path-style addressing. (The S3 backend test's harness, which applies a
provider-free configuration through it, lives in ``tools/tests/infra_backend_harness.py``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hello_platform.pipeline.infra import tofu as tf


@dataclass(frozen=True)
class Backend:
    """One layer's backend: the settings of backend.hcl, the layer's key, moto's URL."""

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
    """The backend of ``env``/``layer`` as its files configure it, served by ``endpoint``."""
    settings = tf.parse_backend_hcl(tf.ENVS_DIR / env / "backend.hcl")
    key = tf.backend_key(tf.layer_dir(env, layer) / "backend.tf")
    return Backend(settings, key, endpoint)


def override_file(backend: Backend) -> str:
    """The moto override: endpoints, no credential checks, path-style addressing."""
    url = backend.endpoint
    return (
        f'endpoints = {{\n  s3  = "{url}"\n  sts = "{url}"\n  iam = "{url}"\n}}\n'
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        "skip_region_validation      = true\n"
        "use_path_style              = true\n"
    )
