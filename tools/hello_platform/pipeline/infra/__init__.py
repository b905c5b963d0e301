"""OpenTofu over infra/terraform: ``hello-platform infra fmt|validate|test|plan|apply|destroy``.

- ``fmt``: ``tofu fmt -check -recursive`` (needs no provider; runs everywhere).
- ``validate`` / ``test``: ``tofu init -backend=false`` then ``tofu validate`` of every
  module and layer, or ``tofu test`` (the plan-level ``*.tftest.hcl`` with ``mock_provider``)
  of every module. Both need the hashicorp/aws provider binary for its schema. Where it
  cannot be installed (no registry in reach, as on our machines), they say so in one
  sentence and run every check that needs no provider instead: fmt -check, the policy
  gate's Rego (conftest hcl2) and tflint over infra/terraform. ``--require-providers``
  (GitHub Actions) turns that into a failure.
- ``plan`` / ``apply`` / ``destroy``: per layer of ``--env`` (in order; destroy backwards),
  with the S3 backend of ``envs/<env>/backend.hcl``; they need an AWS profile
  (``--profile`` or ``AWS_PROFILE``) and refuse to run without one.
"""

from hello_platform.pipeline.infra.cli import register

__all__ = ["register"]
