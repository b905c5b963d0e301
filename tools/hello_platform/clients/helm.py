"""The package's one Helm wrapper: a helm binary run with one error policy, optionally
pointed at a cluster and logging every call."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core.errors import PlatformError

HELM_HINT = "run 'nox -s tools -- helm' to provision helm, then try again"


def helm_failure(stdout: str, stderr: str) -> str:
    """The useful part of a failed call: lint findings, the ``Error:`` line and what follows."""
    findings = [ln.strip() for ln in stdout.splitlines() if ln.startswith(("[ERROR]", "[WARNING]"))]
    lines = [
        ln.strip()
        for ln in stderr.strip().splitlines()
        if ln.strip() and not ln.startswith("Use --debug")
    ]
    for i, line in enumerate(lines):
        if line.startswith("Error:"):
            lines = [line.removeprefix("Error:").strip(), *lines[i + 1 :]]
            break
    return " ".join([*lines[-8:], *findings])[:1500] or "no output"


@dataclass(frozen=True)
class Helm:
    """With ``log`` every call's command line and output are appended there."""

    binary: Path
    kubeconfig: Path | None = None
    context: str | None = None
    log: Path | None = None

    def run(
        self,
        *args: str,
        what: str,
        hint: str | None = None,
        timeout: float = 120,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        argv, env = [str(self.binary), *args], dict(os.environ)
        if self.kubeconfig is not None:
            argv += ["--kubeconfig", str(self.kubeconfig)]
            env["KUBECONFIG"] = str(self.kubeconfig)
        if self.context:
            argv += ["--kube-context", self.context]
        log = str(self.log) if self.log else None
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
            )
        except FileNotFoundError as exc:
            raise PlatformError(
                f"{what} failed: '{self.binary}' does not exist", hint=HELM_HINT
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise PlatformError(
                f"{what} did not finish within {timeout:.0f}s", hint=hint, log=log
            ) from exc
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a") as fh:
                fh.write(
                    f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}(exit {done.returncode})\n"
                )
        if check and done.returncode != 0:
            detail = helm_failure(done.stdout, done.stderr)
            raise PlatformError(f"{what} failed: {detail}", hint=hint, log=log)
        return done

    def rollback_flag(self) -> str:
        """``--rollback-on-failure`` where helm has it (Helm 4), else ``--atomic`` (Helm 3)."""
        done = self.run("upgrade", "--help", what="helm upgrade --help", timeout=30, check=False)
        return "--rollback-on-failure" if "--rollback-on-failure" in done.stdout else "--atomic"
