"""The policy gate: every policy tool over the repository, or over the paths given.

``hello-platform policy [PATH ...]`` (``nox -s policy [-- PATH ...]``) sorts its targets
(:mod:`.targets`; by default infra/terraform, each service's chart and Dockerfile, the
workflows, deploy/argocd), then runs (:mod:`.run`):

- Rego (:mod:`.rego`): ``opa fmt``, ``opa check --strict`` and ``opa test`` of ``policies/``,
  then conftest with ``policies/terraform`` over ``.tf`` files (``--parser hcl2``) and plan
  JSON, ``policies/argocd`` over Argo CD manifests, ``policies/kubernetes`` over other
  manifests and the chart rendered for each values profile. Rule ids come from each rule's
  ``# METADATA`` (``custom.id``), through conftest's ``--output json``;
- checkov (:mod:`.checkov`), tflint (:mod:`.tflint`).

Findings (:mod:`.findings`) are grouped by file and rule id; a file that does not parse is
named with its line (rule ``PARSE``), never a traceback; any finding fails the gate. OPA,
conftest, helm and tflint are the pinned builds of ``toolchain.toml``; checkov comes from
uv.lock.
"""

from __future__ import annotations

from hello_platform.pipeline.policy.cli import register
from hello_platform.pipeline.policy.findings import POLICY_DIR, Finding, failure, format_findings
from hello_platform.pipeline.policy.rego import Verdict, conftest
from hello_platform.pipeline.policy.run import gate
from hello_platform.pipeline.policy.targets import Targets, classify
from hello_platform.pipeline.policy.tflint import tflint

__all__ = [
    "POLICY_DIR",
    "Finding",
    "Targets",
    "Verdict",
    "classify",
    "conftest",
    "failure",
    "format_findings",
    "gate",
    "register",
    "tflint",
]
