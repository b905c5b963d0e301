"""Release announcements to a chat as Slack-compatible incoming-webhook messages.

The URL is ``--webhook-url``, else ``$HELLO_PLATFORM_WEBHOOK_URL``, else the key
``webhook-url`` of the Secret ``argocd/argocd-notifications-secret`` (which Argo CD's own
notifications controller reads). A chat that is down never fails a release: bounded
retries, then one warning line.
"""

from __future__ import annotations

import base64
import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say

ENV_VAR = "HELLO_PLATFORM_WEBHOOK_URL"
SECRET_NAMESPACE = "argocd"  # noqa: S105 - names, not secrets
SECRET_NAME = "argocd-notifications-secret"  # noqa: S105
SECRET_KEY = "webhook-url"  # noqa: S105
ATTEMPTS = 3
TOTAL_SECONDS = 15.0
REQUEST_SECONDS = 5.0


class Event(enum.StrEnum):
    STARTED = "started"
    PROMOTED = "promoted"
    REVERTED = "aborted-and-reverted"


_HEADLINES = {
    Event.STARTED: ":rocket: Release of {service} to {environment} started",
    Event.PROMOTED: ":white_check_mark: {service} promoted in {environment}",
    Event.REVERTED: ":rewind: Release of {service} to {environment} aborted and reverted",
}


@dataclass(frozen=True)
class Notice:
    event: Event
    service: str
    environment: str
    digest: str
    reason: str | None = None
    seconds: float | None = None


def message(notice: Notice) -> dict[str, Any]:
    """A plain ``text``, and the same in ``blocks`` with service, environment and digest."""
    service, environment, digest = notice.service, notice.environment, notice.digest
    text = _HEADLINES[notice.event].format(service=service, environment=environment)
    text += f" ({digest})"
    if notice.seconds is not None:
        text += f": healthy after {notice.seconds:.1f}s"
    if notice.reason:
        text += f". Reason: {notice.reason.rstrip('.')}."
    context = f"service *{service}* · environment *{environment}* · digest `{digest}`"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


class _RetryableError(Exception):
    """429, 5xx or no answer: worth another attempt."""


def _post(url: str, payload: Mapping[str, Any]) -> None:
    try:
        response = httpx.post(url, json=payload, timeout=REQUEST_SECONDS, follow_redirects=True)
    except httpx.TransportError as err:
        raise _RetryableError(str(err)) from err
    if response.status_code == 429 or response.status_code >= 500:
        raise _RetryableError(f"HTTP {response.status_code}")
    if response.is_error:
        raise PlatformError(f"the webhook refused the message (HTTP {response.status_code})")


def send(
    url: str,
    payload: Mapping[str, Any],
    *,
    attempts: int = ATTEMPTS,
    timeout: float = TOTAL_SECONDS,
    post: Callable[[str, Mapping[str, Any]], None] = _post,
) -> None:
    if not url.startswith(("https://", "http://")):
        raise PlatformError("the webhook URL must start with https:// or http://")
    try:
        for attempt in stamina.retry_context(
            on=_RetryableError, attempts=attempts, timeout=timeout, wait_initial=0.5
        ):
            with attempt:
                post(url, payload)
    except _RetryableError as err:
        raise PlatformError(f"the webhook did not take the message: {err}") from err


def _from_secret(kube: Any) -> str | None:
    from lightkube.resources.core_v1 import Secret

    try:
        secret = kube.get(Secret, SECRET_NAME, namespace=SECRET_NAMESPACE)
    except PlatformError as err:
        say(f"warning: no release announcements: {err.message}")
        return None
    encoded = ((secret or {}).get("data") or {}).get(SECRET_KEY)
    return base64.b64decode(encoded).decode().strip() if encoded else None


def webhook_url(
    flag: str | None = None, *, env: Mapping[str, str] = os.environ, kube: Any = None
) -> str | None:
    if flag:
        return flag
    if env.get(ENV_VAR):
        return env[ENV_VAR]
    return _from_secret(kube) if kube is not None else None


@dataclass
class Announcer:
    url: str | None
    deliver: Callable[[str, Mapping[str, Any]], None] = field(default=send)
    sent: list[str] = field(default_factory=list)

    def announce(self, notice: Notice) -> bool:
        if not self.url:
            return False
        try:
            self.deliver(self.url, message(notice))
        except PlatformError as err:
            say(f"warning: the {notice.event} announcement was not delivered: {err.message}")
            return False
        self.sent.append(str(notice.event))
        return True
