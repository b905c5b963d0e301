"""The service catalogue (``services/catalogue.toml``): every service declared once, checked."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT

CATALOGUE = Path("services") / "catalogue.toml"
_KEYS = {"folder", "package", "dockerfile", "repository", "chart", "profiles", "namespace"}
_KEYS |= {"release", "port", "app"}


@dataclass(frozen=True)
class Service:
    name: str
    root: Path
    folder: Path
    package: str
    dockerfile: Path
    repository: str
    chart: Path
    profiles: tuple[str, ...]
    namespace: str
    release: str
    port: int
    #: The ASGI app the image serves, ``module:attribute`` (default: ``<package>.main:app``).
    app: str

    def values_file(self, profile: str) -> Path:
        return self.chart / f"values-{profile}.yaml"

    @property
    def pyproject(self) -> Path:
        return self.folder / "pyproject.toml"


@dataclass(frozen=True)
class Catalogue:
    services: dict[str, Service]
    default: str

    def service(self, name: str | None = None) -> Service:
        chosen = name or self.default
        if chosen not in self.services:
            known = ", ".join(sorted(self.services))
            raise PlatformError(
                f"there is no service '{chosen}' in {CATALOGUE} (known services: {known})",
                hint=f"pass --service with one of them, or add a [services.{chosen}] entry",
            )
        return self.services[chosen]


def _entry(root: Path, name: str, raw: dict[str, Any]) -> Service:
    where = f"{CATALOGUE}, service '{name}'"
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PlatformError(f"{where}: unknown key '{unknown[0]}'", hint=f"keys: {sorted(_KEYS)}")
    for key in ("folder", "chart", "namespace", "port"):
        if key not in raw:
            raise PlatformError(f"{where}: '{key}' is missing")
    folder = root / raw["folder"]
    package = str(raw.get("package", folder.name))
    svc = Service(
        name=name,
        root=root,
        folder=folder,
        package=package,
        dockerfile=root / raw.get("dockerfile", f"{raw['folder']}/Dockerfile"),
        repository=str(raw.get("repository", name)),
        chart=root / raw["chart"],
        profiles=tuple(raw.get("profiles", ())),
        namespace=str(raw["namespace"]),
        release=str(raw.get("release", name)),
        port=int(raw["port"]),
        app=str(raw.get("app", f"{package.replace('-', '_')}.main:app")),
    )
    for label, path in (("folder", svc.folder), ("dockerfile", svc.dockerfile)):
        if not path.exists():
            raise PlatformError(f"{where}: the {label} {path.relative_to(root)} does not exist")
    if not (svc.chart / "Chart.yaml").is_file():
        raise PlatformError(f"{where}: {raw['chart']} is not a Helm chart (no Chart.yaml)")
    for profile in svc.profiles:
        if not svc.values_file(profile).is_file():
            missing = svc.values_file(profile).relative_to(root)
            raise PlatformError(f"{where}: profile '{profile}' has no {missing}")
    return svc


def load(root: Path = REPO_ROOT) -> Catalogue:
    path = root / CATALOGUE
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as err:
        raise PlatformError(f"the service catalogue {path} cannot be read ({err})") from err
    except tomllib.TOMLDecodeError as err:
        raise PlatformError(f"{path} is not valid TOML ({err})") from err
    raw = doc.get("services") or {}
    if not raw:
        raise PlatformError(f"{path} declares no service", hint="add a [services.NAME] table")
    services = {name: _entry(root, name, entry) for name, entry in raw.items()}
    default = str(doc.get("default") or (next(iter(services)) if len(services) == 1 else ""))
    if default not in services:
        raise PlatformError(f"{path}: the default service '{default}' is not declared")
    return Catalogue(services, default)


def service(name: str | None = None, root: Path = REPO_ROOT) -> Service:
    return load(root).service(name)
