"""Running the pinned OpenTofu over infra/terraform, its ``.terraform/`` under the project
cache (``TF_DATA_DIR``) so the checkout stays clean."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy.findings import ANSI, rel

TERRAFORM_DIR = paths.REPO_ROOT / "infra" / "terraform"
ENVS_DIR = TERRAFORM_DIR / "envs"
#: The layers of an environment, in apply order (destroy goes backwards). Each has its own
#: state; later layers read earlier ones' outputs (terraform_remote_state, data sources).
LAYERS: tuple[str, ...] = ("state", "network", "cluster", "registry")

_PROVIDER_UNAVAILABLE = re.compile(
    r"Failed to (resolve|query available|install) provider|could not connect to registry"
    r"|Failed to install provider|no available releases match",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class ProviderUnavailableError(Exception):
    """`tofu init` could not install a provider (the message says why)."""


def tofu_env(extra: Mapping[str, str] | None = None, *, isolated: bool = False) -> dict[str, str]:
    """The caller's environment (without AWS_* if ``isolated``), and without a
    ``TF_CLI_CONFIG_FILE`` naming a missing file (tofu would warn on every command)."""
    env = {k: v for k, v in os.environ.items() if not (isolated and k.startswith("AWS_"))}
    cli_config = env.get("TF_CLI_CONFIG_FILE")
    if cli_config and not Path(cli_config).is_file():
        env.pop("TF_CLI_CONFIG_FILE")
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
    env.update(extra or {})
    return env


def data_dir(directory: Path) -> Path:
    try:
        rel = directory.resolve().relative_to(paths.REPO_ROOT)
        name = "-".join(rel.parts)
    except ValueError:
        name = "-".join(directory.resolve().parts[1:])
    return paths.cache_dir() / "infra" / name


def run(
    tofu: Path,
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    stream: bool = False,
    isolated: bool = False,
) -> Result:
    """Run ``tofu ARGS`` in ``cwd``; output captured (or streamed, for plan/apply)."""
    full_env = tofu_env({"TF_DATA_DIR": str(data_dir(cwd)), **(env or {})}, isolated=isolated)
    cmd = [str(tofu), f"-chdir={cwd}", *args]
    try:
        done = subprocess.run(
            cmd, env=full_env, timeout=timeout, check=False, capture_output=not stream, text=True
        )
    except FileNotFoundError as exc:
        raise PlatformError(
            f"'{tofu}' does not exist", hint="run 'nox -s tools -- opentofu' to build it"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(
            f"'tofu {' '.join(args)}' in {rel(cwd)} took over {timeout:.0f}s"
        ) from exc
    return Result(done.returncode, ANSI.sub("", (done.stdout or "") + (done.stderr or "")))


def init(
    tofu: Path,
    directory: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    isolated: bool = False,
) -> None:
    done = run(
        tofu,
        ["init", "-input=false", "-no-color", *extra],
        cwd=directory,
        env=env,
        isolated=isolated,
    )
    if done.ok:
        return
    if _PROVIDER_UNAVAILABLE.search(done.output):
        host = re.search(r"connect to\s+([a-z0-9.-]+\.[a-z]+)", done.output)
        detail = f"{host.group(1)} is out of reach" if host else first_error(done.output)
        raise ProviderUnavailableError(detail)
    raise PlatformError(f"tofu init failed in {rel(directory)}: {first_error(done.output)}")


def local_backend(directory: Path, state: Path) -> Path:
    """Write a backend_override.tf with a local backend at ``state``; the caller removes it."""
    override = directory / "backend_override.tf"
    override.write_text(f'terraform {{\n  backend "local" {{\n    path = "{state}"\n  }}\n}}\n')
    return override


def first_error(output: str) -> str:
    """The first ``Error: ...`` line of tofu's output, with the line after it."""
    lines = [line.strip() for line in output.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith(("Error:", "│ Error:")):
            rest = next((x.lstrip("│ ") for x in lines[i + 1 :] if x.strip("│ ")), "")
            return f"{line.lstrip('│ ')} {rest}".strip()
    return proc.last_line(output)


def modules(root: Path = TERRAFORM_DIR) -> list[Path]:
    return sorted(p.parent for p in (root / "modules").glob("*/versions.tf"))


def environments() -> list[str]:
    return sorted(p.name for p in ENVS_DIR.iterdir() if (p / "backend.hcl").is_file())


def layer_dir(env: str, layer: str) -> Path:
    return ENVS_DIR / env / layer


def parse_backend_hcl(path: Path) -> dict[str, str | bool]:
    """The ``key = value`` settings of a ``backend.hcl`` (strings and booleans only)."""
    settings: dict[str, str | bool] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r'([a-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|true|false)', line)
        if not match:
            raise PlatformError(
                f'{rel(path)}:{number}: expected key = "string" or key = true|false',
                hint="backend.hcl holds only flat string and boolean settings",
            )
        key, value = match.groups()
        settings[key] = value == "true" if value in ("true", "false") else value[1:-1]
    return settings


def backend_key(backend_tf: Path) -> str:
    match = re.search(r'backend\s+"s3"\s*{[^}]*?\bkey\s*=\s*"([^"]+)"', backend_tf.read_text())
    if not match:
        raise PlatformError(f'{rel(backend_tf)} has no backend "s3" block with a key')
    return match.group(1)
