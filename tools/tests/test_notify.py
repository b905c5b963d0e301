"""Release announcements: the Slack payloads, the webhook URL's sources, and the sender's
bounded retries against a real loopback HTTP server that fails on purpose."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import notify
from hello_platform.pipeline.notify import Announcer, Event, Notice
from loopback import Chat, serving

DIGEST = "sha256:" + "b" * 64


def test_each_event_is_a_slack_message_with_text_and_blocks() -> None:
    promoted = notify.message(Notice(Event.PROMOTED, "hello", "local", DIGEST, seconds=12.34))
    assert promoted["text"].startswith(":white_check_mark: hello promoted in local")
    assert "healthy after 12.3s" in promoted["text"]
    assert promoted["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": promoted["text"]},
    }
    assert DIGEST in promoted["blocks"][1]["elements"][0]["text"]
    reverted = notify.message(Notice(Event.REVERTED, "hello", "local", DIGEST, reason="it broke."))
    assert "aborted and reverted" in reverted["text"]
    assert reverted["text"].endswith("Reason: it broke.")
    started = notify.message(Notice(Event.STARTED, "hello", "local", DIGEST))
    assert started["text"] == f":rocket: Release of hello to local started ({DIGEST})"


@pytest.fixture
def sink() -> Iterator[str]:
    Chat.reset()
    with serving(Chat) as port:
        yield f"http://127.0.0.1:{port}/hook"


def test_send_retries_a_chat_that_answers_503_then_takes_it(sink: str) -> None:
    Chat.script = [503, 503]
    notify.send(sink, {"text": "hi"}, timeout=10)
    assert Chat.received == [{"text": "hi"}] * 3


def test_send_gives_up_after_its_attempts(sink: str) -> None:
    Chat.script = [500] * 5
    with pytest.raises(PlatformError, match="did not take the message: HTTP 500"):
        notify.send(sink, {"text": "hi"}, attempts=2, timeout=10)
    assert len(Chat.received) == 2


def test_a_refused_message_is_not_retried(sink: str) -> None:
    Chat.script = [400]
    with pytest.raises(PlatformError, match="refused the message"):
        notify.send(sink, {"text": "hi"})
    assert len(Chat.received) == 1


def test_a_chat_that_is_down_is_a_warning_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    announcer = Announcer("http://127.0.0.1:1/hook", deliver=_quick_send)
    ok = announcer.announce(Notice(Event.STARTED, "hello", "local", DIGEST))
    assert ok is False
    assert announcer.sent == []
    assert "warning: the started announcement was not delivered" in capsys.readouterr().err


def _quick_send(url: str, payload: Mapping[str, Any]) -> None:
    notify.send(url, payload, attempts=2, timeout=2)


def test_the_announcer_records_what_the_chat_took(sink: str) -> None:
    announcer = Announcer(sink)
    assert announcer.announce(Notice(Event.STARTED, "s", "e", DIGEST))
    assert announcer.sent == ["started"]
    assert Chat.received[0]["text"].startswith(":rocket: Release of s to e started")


def test_no_webhook_no_message() -> None:
    calls: list[str] = []
    announcer = Announcer(None, deliver=lambda url, payload: calls.append(url))
    assert not announcer.announce(Notice(Event.STARTED, "s", "e", DIGEST))
    assert calls == []


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(PlatformError, match="must start with https://"):
        notify.send("file:///etc/passwd", {"text": "hi"})


class _Kube:
    def __init__(self, data: dict[str, str] | None, error: bool = False) -> None:
        self.data, self.error = data, error

    def get(self, res: Any, name: str, *, namespace: str | None = None) -> Any:
        assert (name, namespace) == (notify.SECRET_NAME, notify.SECRET_NAMESPACE)
        if self.error:
            raise PlatformError("reading Secret failed: forbidden (HTTP 403)")
        return None if self.data is None else {"data": self.data}


def test_webhook_url_flag_then_env_then_secret() -> None:
    encoded = base64.b64encode(b"https://chat.invalid/s\n").decode()
    kube = _Kube({notify.SECRET_KEY: encoded})
    env = {notify.ENV_VAR: "https://chat.invalid/e"}
    assert notify.webhook_url("https://chat.invalid/f", env=env, kube=kube) == (
        "https://chat.invalid/f"
    )
    assert notify.webhook_url(None, env=env, kube=kube) == "https://chat.invalid/e"
    assert notify.webhook_url(None, env={}, kube=kube) == "https://chat.invalid/s"
    assert notify.webhook_url(None, env={}, kube=_Kube(None)) is None
    assert notify.webhook_url(None, env={}, kube=_Kube({})) is None
    assert notify.webhook_url(None, env={}) is None


def test_an_unreadable_secret_means_no_announcements(capsys: pytest.CaptureFixture[str]) -> None:
    assert notify.webhook_url(None, env={}, kube=_Kube(None, error=True)) is None
    assert "warning: no release announcements: reading Secret failed" in capsys.readouterr().err
