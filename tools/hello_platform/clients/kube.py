"""The package's one Kubernetes client: lightkube over a kubeconfig. Objects come back as
plain dicts; manifests are applied server-side with one field manager; a failure is one
sentence naming what was asked and what the API server said."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx2 as httpx
from lightkube import ApiError, Client
from lightkube.codecs import load_all_yaml, resource_registry
from lightkube.config.kubeconfig import KubeConfig
from lightkube.core.exceptions import ConfigError
from lightkube.core.resource import NamespacedResource, Resource
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.types import PatchType
from lightkube.utils.quantity import parse_quantity

from hello_platform.core.errors import PlatformError

FIELD_MANAGER = "hello-platform"
#: Pod Security labels that enforce, audit and warn "restricted".
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}


def resource(
    api_version: str, kind: str, *, plural: str | None = None, namespaced: bool = True
) -> type[Resource]:
    """The lightkube class of ``api_version``/``kind``: a built-in model, or a generic
    resource (a CRD's kind)."""
    with contextlib.suppress(Exception):
        return resource_registry.load(api_version, kind)
    group, _, version = api_version.rpartition("/")
    make = create_namespaced_resource if namespaced else create_global_resource
    return make(group, version, kind, plural or f"{kind.lower()}s")


def quantity(text: str) -> float:
    """A Kubernetes quantity (``250m``, ``64Mi``) as a number; lightkube lacks the nano and
    micro suffixes (metrics-server reports nanocores)."""
    text = text.strip()
    for suffix, scale in (("n", 1e-9), ("u", 1e-6)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale
    return float(parse_quantity(text) or 0)


def _as_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


def _reason(err: Exception) -> str:
    if isinstance(err, ApiError):
        return f"{err.status.message or err.status.reason} (HTTP {err.status.code})"
    return str(err) or type(err).__name__


@dataclass(eq=False)
class Kube:
    kubeconfig: Path
    context: str | None = None
    _: KW_ONLY
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    #: The API server's ``Warning`` headers seen so far.
    warnings: list[str] = field(default_factory=list, init=False)

    @cached_property
    def client(self) -> Client:
        try:
            config = KubeConfig.from_file(self.kubeconfig).get(context_name=self.context)
        except (OSError, ConfigError, ValueError, KeyError) as err:
            raise PlatformError(
                f"the kubeconfig {self.kubeconfig} cannot be used: {_reason(err)}",
                hint="pass --kubeconfig PATH (and --context NAME) of a cluster you can reach",
            ) from err
        client = Client(
            config=config,
            timeout=httpx.Timeout(self.timeout),
            field_manager=FIELD_MANAGER,
            trust_env=False,
            transport=self.transport,
        )
        # lightkube does not surface the API server's warnings; its HTTP client's hook does.
        client._client._client.event_hooks["response"].append(self._record_warnings)
        return client

    def _record_warnings(self, response: httpx.Response) -> None:
        for value in response.headers.get_list("warning"):
            code, _, text = value.partition(" ")
            self.warnings.append(text.removeprefix("-").strip().strip('"') if code else value)

    @property
    def _api(self) -> Any:
        """:attr:`client`, untyped: lightkube's overloads cannot see a run-time class."""
        return self.client

    @contextlib.contextmanager
    def _calling(self, what: str, *, absent_ok: bool = False) -> Iterator[None]:
        """Map a failure to one sentence; with ``absent_ok`` a 404 ends the block quietly."""
        try:
            yield
        except (ApiError, httpx.HTTPError, OSError) as err:
            if absent_ok and isinstance(err, ApiError) and err.status.code == 404:
                return
            raise PlatformError(f"{what} failed: {_reason(err)}") from err

    def version(self) -> str:
        with self._calling(f"reaching the cluster of {self.kubeconfig}"):
            # lightkube has no call for /version; its HTTP client carries the credentials.
            resp = self._api._client._client.get("/version")
            resp.raise_for_status()
            return str(resp.json().get("gitVersion", "?"))

    def get(
        self, res: type[Resource], name: str, *, namespace: str | None = None
    ) -> dict[str, Any] | None:
        with self._calling(f"reading {res.__name__} {name}", absent_ok=True):
            return _as_dict(self._api.get(res, name, namespace=namespace))
        return None

    def find(
        self,
        res: type[Resource],
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | str | None = None,
    ) -> list[dict[str, Any]]:
        """``labels``: a map, or a selector of ``k=v`` terms."""
        if isinstance(labels, str):
            labels = dict(p.split("=", 1) for p in labels.split(",") if p)
        with self._calling(f"listing {res.__name__}"):
            return [_as_dict(o) for o in self._api.list(res, namespace=namespace, labels=labels)]

    def apply(
        self, doc: Mapping[str, Any], *, namespace: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        objs = load_all_yaml(json.dumps(dict(doc)), create_resources_for_crds=True)  # JSON is YAML
        return self._apply(objs[0], namespace, dry_run)

    def apply_yaml(
        self, text: str, *, namespace: str | None = None, dry_run: bool = False
    ) -> list[dict[str, Any]]:
        """Server-side apply of a YAML stream, in order (CRDs first make their kinds known)."""
        try:
            objs = load_all_yaml(text, create_resources_for_crds=True)
        except Exception as err:
            raise PlatformError(f"a manifest could not be read: {_reason(err)}") from err
        return [self._apply(o, namespace, dry_run) for o in objs]

    def _apply(self, obj: Any, namespace: str | None, dry_run: bool) -> dict[str, Any]:
        name = f"{obj.kind} {obj.metadata.name}"
        ns = namespace if issubclass(type(obj), NamespacedResource) else None
        ns = obj.metadata.namespace or ns
        with self._calling(f"applying {name}"):
            out = self._api.apply(obj, namespace=ns, force=True, dry_run=dry_run)
        return _as_dict(out)

    def ensure_namespace(self, name: str, labels: Mapping[str, str] = RESTRICTED) -> None:
        doc = {"apiVersion": "v1", "kind": "Namespace"}
        self.apply({**doc, "metadata": {"name": name, "labels": dict(labels)}})

    def patch(
        self,
        res: type[Resource],
        name: str,
        patch: Mapping[str, Any],
        *,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """A JSON merge patch, outside server-side apply's field ownership."""
        with self._calling(f"patching {res.__name__} {name}"):
            out = self._api.patch(
                res, name, dict(patch), namespace=namespace, patch_type=PatchType.MERGE
            )
        return _as_dict(out)

    def delete(
        self,
        res: type[Resource],
        name: str,
        *,
        namespace: str | None = None,
        grace_period: int | None = None,
    ) -> bool:
        """False when it did not exist."""
        with self._calling(f"deleting {res.__name__} {name}", absent_ok=True):
            self._api.delete(res, name, namespace=namespace, grace_period=grace_period)
            return True
        return False

    def logs(
        self, pod: str, *, namespace: str, container: str | None = None, tail: int | None = None
    ) -> str:
        with self._calling(f"reading the log of pod {pod}"):
            lines = self._api.log(pod, namespace=namespace, container=container, tail_lines=tail)
            return "".join(lines)
