"""The image's SBOM (CycloneDX 1.5 JSON): its Python and Debian packages."""

from __future__ import annotations

import email.parser
import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.pipeline.image.source import Source


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str
    filename: str
    license: str | None = None

    @property
    def purl(self) -> str:
        return f"pkg:pypi/{self.name}@{self.version}"


def package_of(wheel: Path) -> Package:
    name, version = wheel.name.split("-")[:2]
    license_: str | None = None
    with zipfile.ZipFile(wheel) as zf:
        meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta:
            msg = email.parser.HeaderParser().parsestr(zf.read(meta).decode("utf-8", "replace"))
            expr = msg.get("License-Expression") or ""
            plain = msg.get("License") or ""
            if expr.strip():
                license_ = expr.strip()
            elif plain.strip() and "\n" not in plain.strip() and len(plain) <= 64:
                license_ = plain.strip()
    return Package(
        re.sub(r"[-_.]+", "-", name).lower(),
        version,
        hashlib.sha256(wheel.read_bytes()).hexdigest(),
        wheel.name,
        license_,
    )


@dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    arch: str

    @property
    def purl(self) -> str:
        version = urllib.parse.quote(self.version, safe=".+~-")
        return f"pkg:deb/debian/{self.name}@{version}?arch={self.arch}&distro=debian-12"


def debian_packages(status: str) -> list[DebPackage]:
    found = []
    for stanza in status.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in stanza.splitlines()
            if ": " in line and not line.startswith(" ")
        )
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found.append(
                DebPackage(
                    fields["Package"], fields.get("Version", ""), fields.get("Architecture", "")
                )
            )
    return sorted(found, key=lambda p: p.name)


def sbom(
    packages: Sequence[Package],
    *,
    source: Source,
    image: str,
    os_packages: Sequence[DebPackage] = (),
    app: str,
) -> dict[str, Any]:
    """A CycloneDX 1.5 BOM of the image; ``app`` is the service's own package."""
    components: list[dict[str, Any]] = []
    for pkg in sorted(packages, key=lambda p: p.name):
        comp: dict[str, Any] = {
            "type": "application" if pkg.name == app else "library",
            "bom-ref": pkg.purl,
            "name": pkg.name,
            "version": pkg.version,
            "purl": pkg.purl,
            "hashes": [{"alg": "SHA-256", "content": pkg.sha256}],
            "properties": [{"name": "python:wheel", "value": pkg.filename}],
        }
        if pkg.license:
            comp["licenses"] = [{"license": {"name": pkg.license}}]
        components.append(comp)
    for deb in os_packages:
        components.append(
            {
                "type": "library",
                "bom-ref": deb.purl,
                "name": deb.name,
                "version": deb.version,
                "purl": deb.purl,
            }
        )
    subject = f"{image}:{source.tag}"
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, f"{subject}#{source.revision}").urn,
        "version": 1,
        "metadata": {
            "timestamp": source.created,
            "tools": {"components": [{"type": "application", "name": "hello-platform"}]},
            "component": {
                "type": "container",
                "bom-ref": subject,
                "name": image,
                "version": source.tag,
                "properties": [
                    {"name": "org.opencontainers.image.revision", "value": source.revision},
                    {"name": "org.opencontainers.image.source", "value": source.source_url},
                ],
            },
        },
        "components": components,
        "dependencies": [{"ref": subject, "dependsOn": [c["bom-ref"] for c in components]}],
    }
