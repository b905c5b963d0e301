"""The ``infra`` sub-command."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections import Counter
from pathlib import Path

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline.infra import checks, provider
from hello_platform.pipeline.infra import tofu as tf
from hello_platform.pipeline.policy.findings import rel

ACTIONS = ("fmt", "validate", "test", "plan", "apply", "destroy", "roundtrip")
PROFILE_HINT = "pass --profile NAME (a profile of ~/.aws/config) or set AWS_PROFILE"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "infra",
        help="OpenTofu over infra/terraform: fmt, validate, test, plan, apply, destroy",
        description="Run the pinned OpenTofu over infra/terraform. fmt needs nothing; "
        "validate and test use the machine's hashicorp/aws binary or the registry's (where "
        "neither is available they run every provider-free check instead); plan, apply and "
        "destroy need an AWS profile, or --emulator (roundtrip: destroy --emulator).",
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--env", default="dev", help="environment of infra/terraform/envs")
    parser.add_argument(
        "--layer",
        action="append",
        choices=tf.LAYERS,
        help="only this layer (repeatable; default: all, in order)",
    )
    parser.add_argument("--profile", help="AWS profile for plan/apply/destroy (or AWS_PROFILE)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="target an emulated AWS account (moto on 127.0.0.1) instead of a profile's: every "
        "layer planned, gated and applied in order, drift checked; destroy (= roundtrip) also "
        "destroys every layer and checks nothing is left",
    )
    parser.add_argument(
        "--require-providers",
        action="store_true",
        help="fail (instead of falling back) when providers cannot be installed",
    )
    parser.add_argument(
        "--provider-mirror",
        metavar="DIR",
        help="a Terraform filesystem mirror holding hashicorp/aws (default: "
        f"${provider.ENV_MIRROR}, then the usual plugin folders such as /opt/tf-plugins)",
    )
    parser.add_argument(
        "--schema",
        metavar="PATH",
        help="the pinned release's `providers schema -json` (.json or .json.gz) for the schema "
        f"check (or ${checks.ENV_SCHEMA}; default: the installed provider's schema)",
    )
    parser.add_argument(
        "--auto-approve", action="store_true", help="apply/destroy without asking (CI)"
    )
    parser.add_argument(
        "--bootstrap",
        action="store_true",
        help="apply the state layer with a local backend first, then move its state into "
        "the bucket it created",
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from hello_platform.toolchain import resolve

    if args.env not in tf.environments():
        raise PlatformError(
            f"unknown environment '{args.env}'",
            hint=f"use one of: {', '.join(tf.environments())} (folders of infra/terraform/envs)",
        )
    if args.action == "roundtrip" or args.emulator:
        from hello_platform.pipeline.infra import emulated

        if args.action not in ("plan", "apply", "destroy", "roundtrip") or args.layer:
            raise PlatformError(
                "--emulator goes with plan, apply, destroy or roundtrip, over every layer",
                hint="drop --layer; the emulator starts empty, so every layer runs in order",
            )
        stage = "destroy" if args.action == "roundtrip" else args.action
        emulated.roundtrip(resolve("tofu"), args.env, stage, args.provider_mirror)
        return 0
    if args.action in ("plan", "apply", "destroy"):
        profile = aws_profile(args.profile)
    tofu = resolve("tofu")
    if args.action == "fmt":
        fmt(tofu)
    elif args.action in ("validate", "test"):
        opts = checks.Options(args.env, args.provider_mirror, args.schema, args.require_providers)
        offline_capable(tofu, args.action, opts)
    else:
        layers = list(args.layer or tf.LAYERS)
        if args.action == "destroy":
            layers.reverse()
        for layer in layers:
            run_layer(tofu, args, layer, profile)
    return 0


def aws_profile(given: str | None) -> str:
    profile = given or os.environ.get("AWS_PROFILE", "")
    if not profile:
        raise PlatformError("plan, apply and destroy need an AWS profile", hint=PROFILE_HINT)
    return profile


def fmt(tofu: Path) -> None:
    with step("tofu fmt -check -recursive infra/terraform"):
        done = tf.run(tofu, ["fmt", "-check", "-recursive", "-no-color"], cwd=tf.TERRAFORM_DIR)
    if not done.ok:
        files = [
            line.strip()
            for line in done.output.splitlines()
            if line.strip().endswith((".tf", ".tfvars", ".hcl"))
        ]
        raise PlatformError(
            f"OpenTofu files are not formatted: {', '.join(files) or tf.first_error(done.output)}",
            hint="run 'tofu fmt -recursive infra/terraform' with the pinned tofu "
            "('nox -s tools -- path tofu' prints it)",
        )
    print("tofu fmt: infra/terraform is formatted", flush=True)


def offline_capable(tofu: Path, action: str, opts: checks.Options) -> None:
    check = checks.validate if action == "validate" else checks.test
    try:
        check(tofu, opts)
    except tf.ProviderUnavailableError as missing:
        sentence = (
            f"tofu {action} needs the hashicorp/aws provider, which is neither on this machine "
            f"nor installable ({str(missing).rstrip('.')}), so it ran only the checks that "
            "need no provider (tofu fmt -check, the schema check from a file, the policy gate's "
            "Rego and tflint over infra/terraform)"
        )
        if opts.require:
            raise PlatformError(sentence) from None
        print(sentence + ".", flush=True)
        provider_free_checks(tofu, opts)


def provider_free_checks(tofu: Path, opts: checks.Options) -> None:
    from hello_platform.pipeline import policy
    from hello_platform.toolchain import resolve

    fmt(tofu)
    checks.schema_check(tofu, opts, None, {}, None)
    targets = policy.classify([str(tf.TERRAFORM_DIR)])
    with step("conftest --parser hcl2 with policies/terraform"):
        verdict = policy.conftest(resolve("conftest"), targets.tf_files, "terraform", parser="hcl2")
        findings = verdict.findings
    with step("tflint (core, terraform ruleset)"):
        findings += policy.tflint(resolve("tflint"), targets.tf_dirs)
    for line in policy.format_findings(findings):
        print(line, flush=True)
    if findings:
        raise policy.failure(findings)
    print(f"rego and tflint: {len(targets.tf_files)} files clean", flush=True)


def run_layer(tofu: Path, args: argparse.Namespace, layer: str, profile: str) -> None:
    directory = tf.layer_dir(args.env, layer)
    backend_hcl = f"-backend-config={tf.ENVS_DIR / args.env / 'backend.hcl'}"
    aws = {"AWS_PROFILE": profile}
    if args.bootstrap and layer == "state" and args.action == "apply":
        bootstrap_state(tofu, directory, backend_hcl, aws, args.auto_approve)
        return
    with step(f"tofu init {rel(directory)}"):
        tf.init(tofu, directory, backend_hcl, "-reconfigure", env=aws)
    if args.action == "plan":
        plan(tofu, directory, layer, aws)
        return
    extra = ["-auto-approve"] if args.auto_approve else []
    verb = "apply" if args.action == "apply" else "destroy"
    say(f"tofu {verb} {rel(directory)}")
    done = tf.run(
        tofu, [verb, "-input=true", *extra], cwd=directory, env=aws, stream=True, timeout=7200
    )
    if not done.ok:
        raise PlatformError(f"tofu {verb} failed in {rel(directory)}", hint="see its output above")


def plan(tofu: Path, directory: Path, layer: str, aws: dict[str, str]) -> None:
    from hello_platform.pipeline import policy

    out = paths.out_dir() / "infra"
    out.mkdir(parents=True, exist_ok=True)
    planfile = out / f"{layer}.tfplan"
    done = tf.run(
        tofu,
        ["plan", "-input=false", "-no-color", "-lock-timeout=60s", f"-out={planfile}"],
        cwd=directory,
        env=aws,
        timeout=1800,
    )
    print(done.output, flush=True)
    if not done.ok:
        raise PlatformError(f"tofu plan failed in {rel(directory)}: {tf.first_error(done.output)}")
    shown = tf.run(tofu, ["show", "-json", str(planfile)], cwd=directory, env=aws)
    plan_json = out / f"{layer}.plan.json"
    plan_json.write_text(shown.output)
    summary = summarize(layer, json.loads(shown.output))
    (out / f"{layer}.md").write_text(summary)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a") as fh:
            fh.write(summary)
    print(summary, flush=True)
    policy.gate([str(plan_json)])


def summarize(layer: str, plan_json: dict[str, object]) -> str:
    actions: Counter[str] = Counter()
    changes = plan_json.get("resource_changes") or []
    assert isinstance(changes, list)
    for rc in changes:
        acts = tuple(rc.get("change", {}).get("actions", []))
        if acts == ("no-op",) or acts == ("read",):
            continue
        actions["replace" if set(acts) == {"create", "delete"} else acts[0]] += 1
    parts = ", ".join(f"{n} to {a}" for a, n in sorted(actions.items())) or "no changes"
    return f"### tofu plan: `{layer}`\n\n{parts}\n\n"


def bootstrap_state(
    tofu: Path, directory: Path, backend_hcl: str, aws: dict[str, str], auto: bool
) -> None:
    local_state = tf.data_dir(directory) / "bootstrap.tfstate"
    override = tf.local_backend(directory, local_state)
    try:
        with step("tofu init (bootstrap: local backend)"):
            tf.init(tofu, directory, "-reconfigure", env=aws)
        extra = ["-auto-approve"] if auto else []
        done = tf.run(tofu, ["apply", *extra], cwd=directory, env=aws, stream=True, timeout=3600)
        if not done.ok:
            raise PlatformError("tofu apply of the state layer failed", hint="see its output above")
    finally:
        override.unlink(missing_ok=True)
    with step("tofu init -migrate-state (into the new bucket)"):
        tf.init(tofu, directory, backend_hcl, "-migrate-state", "-force-copy", env=aws)
    shutil.move(str(local_state), str(local_state.with_suffix(".migrated")))
