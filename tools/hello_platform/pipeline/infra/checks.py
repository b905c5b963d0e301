"""``infra validate`` (tofu validate and the schema check) and ``infra test`` (tofu test), in a
copy of infra/terraform (``out/infra/check``) so the checkout stays clean."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import step
from hello_platform.pipeline.infra import provider
from hello_platform.pipeline.infra import schema as sch
from hello_platform.pipeline.infra import tofu as tf
from hello_platform.pipeline.policy.findings import rel

ENV_SCHEMA = "HELLO_PLATFORM_AWS_SCHEMA"
WORKSPACE = "check"


@dataclass(frozen=True)
class Options:
    env: str
    mirror: str | None = None
    schema: str | None = None
    require: bool = False


def folders(root: Path, env: str) -> list[Path]:
    return [*tf.modules(root), *(root / "envs" / env / layer for layer in tf.LAYERS)]


def init_all(tofu: Path, dirs: list[Path], env: dict[str, str]) -> None:
    for directory in dirs:
        with step(f"tofu init -backend=false {directory.name}"):
            tf.init(tofu, directory, "-backend=false", env=env)


def diagnostics(directory: Path, output: str, root: Path) -> list[str]:
    """The errors of ``tofu validate -json``, as ``file:line: summary: detail``."""
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        return [f"{rel(directory)}: {tf.first_error(output)}"]
    lines = []
    for diag in report.get("diagnostics", []):
        if diag.get("severity") != "error":
            continue
        where = diag.get("range") or {}
        file = (directory / where["filename"]).resolve() if "filename" in where else directory
        name = (
            str(file.relative_to(root.resolve()))
            if file.is_relative_to(root.resolve())
            else str(file)
        )
        line = f":{where['start']['line']}" if "start" in where else ""
        detail = " ".join(str(diag.get("detail", "")).split())
        lines.append(f"{name}{line}: {diag.get('summary')}: {detail}".rstrip(": "))
    return lines


def validate(tofu: Path, opts: Options) -> None:
    """``tofu validate`` of every module and layer (an error once, with every folder that met
    it), then the schema check."""
    root, local, env = provider.prepare(WORKSPACE, opts.mirror)
    dirs = folders(root, opts.env)
    init_all(tofu, dirs, env)
    errors: dict[str, list[str]] = {}
    for directory in dirs:
        name = str(directory.relative_to(root))
        with step(f"tofu validate {name}"):
            done = tf.run(tofu, ["validate", "-json", "-no-color"], cwd=directory, env=env)
        found = [] if done.ok else diagnostics(directory, done.output, root) or [f"{name}: invalid"]
        for error in found:
            errors.setdefault(error, []).append(name)
        print(f"  {name}: {'valid' if done.ok else 'INVALID'}", flush=True)
    print(provider.ran_against("validate", local), flush=True)
    schema_check(tofu, opts, dirs[0], env, local)
    if errors:
        for error, where in errors.items():
            print(f"  {error} (validating {', '.join(where)})", flush=True)
        raise PlatformError(f"tofu validate failed: {len(errors)} error(s), listed above")


def test(tofu: Path, opts: Options) -> None:
    root, local, env = provider.prepare(WORKSPACE, opts.mirror)
    modules = [d for d in folders(root, opts.env) if (d / "tests").is_dir()]
    init_all(tofu, modules, env)
    failed, passed = [], 0
    for directory in modules:
        with step(f"tofu test {directory.relative_to(root)}"):
            done = tf.run(tofu, ["test", "-no-color"], cwd=directory, env=env, timeout=900)
        runs = re.findall(r'run "([^"]+)"\.\.\. (\w+)', done.output)
        passed += sum(1 for _, outcome in runs if outcome == "pass")
        summary = proc.last_line(done.output)
        print(f"  {directory.relative_to(root)}: {summary}", flush=True)
        if not done.ok:
            failed.append(f"{directory.relative_to(root)}: {tf.first_error(done.output)}")
            print(done.output, flush=True)
    print(provider.ran_against("test", local) + f": {passed} run blocks passed", flush=True)
    if failed:
        raise PlatformError(f"tofu test failed: {'; '.join(failed)}")


def load_schema(
    tofu: Path, opts: Options, initialized: Path | None, env: dict[str, str], version: str
) -> tuple[sch.Schema, str] | None:
    name = opts.schema or os.environ.get(ENV_SCHEMA)
    path = Path(name).expanduser() if name else None
    if path is not None and path.is_file():
        return sch.load_file(path), f"the schema file {path}"
    if path is not None:
        print(f"The schema file {path} does not exist, so the schema check does not use it.")
    if initialized is None:
        return None
    done = tf.run(tofu, ["providers", "schema", "-json"], cwd=initialized, env=env)
    if not done.ok:
        raise PlatformError(f"tofu providers schema failed: {tf.first_error(done.output)}")
    return sch.from_json(json.loads(done.output), version), "the installed provider"


def schema_check(
    tofu: Path,
    opts: Options,
    initialized: Path | None,
    env: dict[str, str],
    local: provider.LocalProvider | None,
) -> None:
    from hello_platform.pipeline import policy

    version = local.version if local else "as installed"
    loaded = load_schema(tofu, opts, initialized, env, version)
    if loaded is None:
        print(
            "No schema file was given and no provider is installed, so the schema check is skipped."
        )
        return
    schema, source = loaded
    files = sorted(tf.TERRAFORM_DIR.rglob("*.tf"))
    with step(f"schema check of {len(files)} files against hashicorp/aws {schema.version}"):
        findings = sch.check_files(schema, files, tf.TERRAFORM_DIR)
    for line in policy.format_findings(findings):
        print(line, flush=True)
    print(
        f"schema check ran against hashicorp/aws {schema.version} ({source}): "
        f"{len(files)} files, {len(findings)} finding(s)",
        flush=True,
    )
    if findings:
        raise policy.failure(findings)
