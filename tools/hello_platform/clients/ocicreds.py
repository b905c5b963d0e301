"""Registry credentials: a user name with its password (from the environment or stdin,
never a flag, which ends up in shell history and ``ps``), else Docker's ``config.json``
(its ``auths`` entry for the host, or the credential helper it names)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from hello_platform.clients.oci import PASSWORD_ENV, Credentials
from hello_platform.core.errors import PlatformError


def _from_helper(helper: str, host: str) -> Credentials | None:
    cmd = [f"docker-credential-{helper}", "get"]
    try:
        done = subprocess.run(
            cmd, input=host, capture_output=True, text=True, check=False, timeout=60
        )
    except OSError as err:
        raise PlatformError(
            f"Docker's config.json names the credential helper docker-credential-{helper}, "
            f"which could not run ({err})",
            hint="install it, or log in with --registry-username",
        ) from err
    if done.returncode != 0:
        return None  # the helper knows no login for this host
    doc = json.loads(done.stdout)
    return Credentials(str(doc["Username"]), str(doc["Secret"]))


def from_docker_config(host: str) -> Credentials | None:
    path = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise PlatformError(f"{path} is not readable JSON ({err})") from err
    doc = doc if isinstance(doc, dict) else {}
    helper = (doc.get("credHelpers") or {}).get(host) or doc.get("credsStore")
    if helper and (found := _from_helper(str(helper), host)):
        return found
    auths = doc.get("auths") or {}
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/"):
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return Credentials(user, password)
    return None


def resolve(
    host: str, username: str | None, *, password_stdin: bool = False, stdin: TextIO | None = None
) -> Credentials | None:
    if not username:
        if password_stdin:
            raise PlatformError("--registry-password-stdin needs --registry-username")
        return from_docker_config(host)
    if password_stdin:
        password = (stdin or sys.stdin).read().strip()
    else:
        password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise PlatformError(
            f"--registry-username {username} was given without a password",
            hint=f"set ${PASSWORD_ENV}, or pipe it with --registry-password-stdin",
        )
    return Credentials(username, password)


def docker_config_json(host: str, creds: Credentials) -> str:
    """A Docker ``config.json`` (or a pull Secret's ``.dockerconfigjson``) for one login."""
    auth = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    entry = {"username": creds.username, "password": creds.password, "auth": auth}
    return json.dumps({"auths": {host: entry}})
