"""The one CLI convention: every command lives in a ``<feature>/cli.py``, argparse is the only
place that knows the flags (the nox sessions pass their arguments straight through), it names
a bad flag or action itself, and every command the docs and CI show uses flags it knows."""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core import paths

PACKAGE = Path(cli.__file__).parent
#: The argparse calls that declare a command line.
DECLARING = {"add_parser", "add_subparsers", "add_argument", "add_mutually_exclusive_group"}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub-)command of ``parser``: its words and its parser, the leaves included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


COMMANDS = dict(commands(cli.build_parser()))
LEAVES = {
    path: parser
    for path, parser in COMMANDS.items()
    if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
}


def required_words(parser: argparse.ArgumentParser) -> list[str]:
    """Positional values that make ``parser`` accept an otherwise empty command line."""
    return [
        str(next(iter(a.choices))) if a.choices else "x"
        for a in parser._actions
        if not a.option_strings and a.nargs not in ("?", "*")
    ]


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_help_prints_argparse_usage(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.parse([*path, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: hello-platform {' '.join(path)}")


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_an_unknown_flag_is_named_by_its_command(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*path, *required_words(LEAVES[path]), "--no-such-flag"]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: hello-platform {' '.join(path)}")
    assert f"hello-platform {' '.join(path)}: error: unrecognized arguments: --no-such-flag" in err


ACTIONS = sorted(
    path
    for path, parser in COMMANDS.items()
    if path and any(not a.option_strings and a.choices for a in parser._actions)
)


@pytest.mark.parametrize("path", ACTIONS, ids=" ".join)
def test_an_unknown_action_is_named(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main([*path, "no-such-action"])
    assert exc.value.code == 2
    assert "invalid choice: 'no-such-action'" in capsys.readouterr().err


def declaring_modules() -> Iterator[str]:
    """The modules of the package that call argparse's declaring methods."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        calls = (n for n in ast.walk(tree) if isinstance(n, ast.Call))
        if any(isinstance(c.func, ast.Attribute) and c.func.attr in DECLARING for c in calls):
            yield path.relative_to(PACKAGE).as_posix()


def test_only_cli_modules_declare_command_lines() -> None:
    found = set(declaring_modules())
    assert {"cli.py", "pipeline/deploy/cli.py", "toolchain/cli.py"} <= found
    strays = {m for m in found if m != "cli.py" and not m.endswith("/cli.py")}
    assert not strays, f"argparse outside a cli.py: {sorted(strays)}"


def test_every_command_module_is_a_cli_module() -> None:
    for name in cli.COMMAND_MODULES:
        assert name.endswith(".cli"), name


# --------------------------------------------------- what the docs and CI tell people to run


def session_commands() -> dict[str, tuple[list[str], list[str]]]:
    """Each nox session that calls the glue: (its ``hello-platform`` words, its default),
    read from the ``glue(session, "WORDS", ..., default="...")`` call in noxfile.py."""
    tree = ast.parse((paths.REPO_ROOT / "noxfile.py").read_text())
    found = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "glue":
                words = ast.literal_eval(call.args[1]).split()
                default = [ast.literal_eval(k.value) for k in call.keywords if k.arg == "default"]
                found[fn.name] = (words, default[0].split() if default else [])
    return found


SESSIONS = session_commands()
DOCS = [
    "README.md",
    ".ci/run",
    *(
        p.relative_to(paths.REPO_ROOT).as_posix()
        for p in paths.REPO_ROOT.glob(".github/workflows/*.y*ml")
    ),
    *(
        p.relative_to(paths.REPO_ROOT).as_posix()
        for p in sorted(paths.REPO_ROOT.glob("*/**/README.md"))
        if not {".venv", ".nox", "node_modules", "out"} & set(p.parts)
    ),
]
INVOCATION = re.compile(r"nox -s ([a-z]+) -- ([^`#|;)\n]+)")
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_:@.\[\]]*|\$\{\{.*?\}\}|x")


def documented() -> Iterator[tuple[str, str, str]]:
    """(file, session, arguments) of every ``nox -s SESSION -- ARGS`` the docs show."""
    for name in DOCS:
        for line in (paths.REPO_ROOT / name).read_text().splitlines():
            line = re.sub(r"\$\{\{.*?\}\}", "x", line)  # a workflow expression: a placeholder
            for session, args in INVOCATION.findall(line):
                if session in SESSIONS:
                    yield name, session, re.split(r"\s2>|\s&&", args)[0].strip()


def argv_of(session: str, args: str) -> list[str]:
    """The ``hello-platform`` words of a documented invocation: optional parts (``[...]``)
    included, a placeholder after a flag given a valid value, a bare one left out."""
    words, default = SESSIONS[session]
    given = [w.strip("[]") for w in shlex.split(args) if w.strip("[]") not in ("", "...")]
    return _fill(cli.build_parser(), words + (given or default))


def _fill(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    out: list[str] = []
    for word in argv:
        if not PLACEHOLDER.fullmatch(word):
            if word in _subcommands(parser):
                parser = _subcommands(parser)[word]
            out.append(word)
            continue
        option = next((a for a in parser._actions if out and out[-1] in a.option_strings), None)
        if option is not None:
            out.append(str(next(iter(option.choices))) if option.choices else "x")
    return out


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


@pytest.mark.parametrize(("doc", "session", "args"), sorted(set(documented())))
def test_every_documented_invocation_parses(doc: str, session: str, args: str) -> None:
    argv = argv_of(session, args)
    if "--help" in argv:
        with pytest.raises(SystemExit) as exc:
            cli.parse(argv)
        assert exc.value.code == 0
    else:
        assert cli.parse(argv).func


def test_the_documented_invocations_are_found() -> None:
    found = {(session, args) for _doc, session, args in documented()}
    assert ("deploy", "--set faults.unready=true") in found
    assert ("infra", "validate") in found
    assert ("cluster", "down") in found


def test_a_typo_in_a_documented_invocation_would_fail() -> None:
    with pytest.raises(SystemExit) as exc:
        cli.parse(argv_of("deploy", "--kubeconfig PATH [--contxt NAME]"))
    assert exc.value.code == 2
    assert argv_of("cluster", "logs [NAME] [-n N]") == ["cluster", "logs", "-n", "x"]
