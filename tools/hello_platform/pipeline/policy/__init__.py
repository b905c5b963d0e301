"""The policy gate (``hello-platform policy``): Rego via opa and conftest, checkov and tflint
over the repository or the paths given; any finding fails it."""

from __future__ import annotations

from hello_platform.pipeline.policy.findings import POLICY_DIR, Finding, failure, format_findings
from hello_platform.pipeline.policy.rego import conftest
from hello_platform.pipeline.policy.run import gate
from hello_platform.pipeline.policy.targets import Targets, classify
from hello_platform.pipeline.policy.tflint import tflint

__all__ = ["POLICY_DIR", "Finding", "Targets", "classify", "conftest", "failure"]
__all__ += ["format_findings", "gate", "tflint"]
