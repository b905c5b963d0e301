"""OpenTofu over infra/terraform: ``hello-platform infra fmt|validate|test|plan|apply|destroy``.

- ``fmt``: ``tofu fmt -check -recursive`` (needs no provider; runs everywhere).
- ``validate`` / ``test`` (:mod:`.checks`): in a copy of infra/terraform, with the machine's
  hashicorp/aws binary when it has one (:mod:`.provider`: filesystem mirror, our own CLI
  config, a visible version shim) or the registry's: ``tofu validate`` of every module and
  layer plus the schema check of every ``aws_*`` block (:mod:`.schema`), or ``tofu test``
  of every module. Where no provider can be had, they say so and run what needs none;
  ``--require-providers`` turns that into a failure.
- ``plan`` / ``apply`` / ``destroy`` / ``roundtrip`` with ``--emulator`` (:mod:`.emulated`):
  every layer against moto on 127.0.0.1, through the policy gate, drift-checked
  (:mod:`.drift`), destroyed, nothing left (:mod:`.leftovers`).
- ``plan`` / ``apply`` / ``destroy`` with an AWS profile: per layer of ``--env`` (in order;
  destroy backwards), with the S3 backend of ``envs/<env>/backend.hcl``; they refuse to
  run without a profile (``--profile`` or ``AWS_PROFILE``).
"""

from hello_platform.pipeline.infra.cli import register

__all__ = ["register"]
