"""Release announcements to a chat: Slack-compatible incoming-webhook messages.

``announce(event, service=..., environment=..., digest=...)`` of an :class:`Announcer`
posts ``{"text": ..., "blocks": [...]}`` for a release started, promoted (seconds to
healthy) or aborted-and-reverted (the one-sentence reason); Argo CD's own events (deployed,
sync failed, degraded) are its notifications controller's. The URL is
the ``--webhook-url`` flag, else ``$HELLO_PLATFORM_WEBHOOK_URL``, else the key
``webhook-url`` of the Secret ``argocd-notifications-secret`` in ``argocd`` (the Secret
Argo CD's own notifications controller reads). A chat that is down never fails a release:
bounded retries, then one warning line.
"""

from hello_platform.pipeline.notify.webhook import (
    ENV_VAR,
    SECRET_KEY,
    SECRET_NAME,
    SECRET_NAMESPACE,
    Announcer,
    Event,
    Notice,
    message,
    send,
    webhook_url,
)

__all__ = [
    "ENV_VAR",
    "SECRET_KEY",
    "SECRET_NAME",
    "SECRET_NAMESPACE",
    "Announcer",
    "Event",
    "Notice",
    "message",
    "send",
    "webhook_url",
]
