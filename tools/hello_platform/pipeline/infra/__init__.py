"""OpenTofu over infra/terraform: ``hello-platform infra fmt|validate|test|plan|apply|destroy``
(:mod:`.checks`), against an AWS profile or moto on 127.0.0.1 (:mod:`.emulated`)."""

from hello_platform.pipeline.infra.cli import register

__all__ = ["register"]
