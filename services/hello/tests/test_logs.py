"""Logs are JSON, one object per line."""

from __future__ import annotations

import json
import logging

import pytest
from hello.logs import JsonFormatter, configure_logging


def test_record_becomes_one_json_line() -> None:
    record = logging.LogRecord("hello", logging.INFO, __file__, 1, "hi %s", ("there",), None)
    record.route = "/"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hi there"
    assert entry["level"] == "info"
    assert entry["logger"] == "hello"
    assert entry["route"] == "/"
    assert entry["time"].endswith("+00:00")


def test_exceptions_stay_on_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_configure_logging_routes_uvicorn_through_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("warning")
        logging.getLogger("uvicorn.error").warning("listening")
        logging.getLogger("hello").info("hidden below the level")
        out = capsys.readouterr().out.strip().splitlines()
        assert [json.loads(line)["message"] for line in out] == ["listening"]
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
