"""The package's one Kubernetes client: lightkube over a kubeconfig (and an optional context).

Every feature reaches a cluster through :class:`Kube`, whatever cluster it is (the embedded
one, kind, EKS). Objects come back as plain dicts, the JSON the API serves, so the parsers
of the features stay pure; manifests are applied server-side with one field manager. A
failure becomes one sentence (:class:`PlatformError`) that names what was asked and what the
API server said, never a traceback:

    kube = Kube(Path("~/.kube/config").expanduser(), context="my-eks")
    dep = kube.get(Deployment, "web", namespace="web")  # lightkube.resources.apps_v1
    kube.apply_yaml(Path("addons.yaml").read_text())
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
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

#: The field manager of every server-side apply the platform makes.
FIELD_MANAGER = "hello-platform"
#: Pod Security admission labels of a namespace that enforces (audits, warns) "restricted".
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}


def resource(
    api_version: str, kind: str, *, plural: str | None = None, namespaced: bool = True
) -> type[Resource]:
    """The lightkube resource class of ``api_version``/``kind``: a built-in model, or a
    generic resource (a CRD's kind, e.g. Argo CD's Application; ``plural`` defaults to the
    lower-case kind + "s")."""
    with contextlib.suppress(Exception):
        return resource_registry.load(api_version, kind)
    group, _, version = api_version.rpartition("/")
    make = create_namespaced_resource if namespaced else create_global_resource
    return make(group, version, kind, plural or f"{kind.lower()}s")


def quantity(text: str) -> float:
    """A Kubernetes quantity (``250m``, ``1234567n``, ``64Mi``, ``1G``, ``42``) as a bare number
    (cores, bytes, requests per second). lightkube parses it, to a thousandth; the nano and
    micro suffixes it lacks (metrics-server reports CPU in nanocores) are scaled here."""
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


class Kube:
    """One cluster, reached with a kubeconfig (see the module docstring)."""

    def __init__(
        self,
        kubeconfig: Path,
        context: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.timeout = timeout
        self._transport = transport
        #: The API server's ``Warning`` headers seen so far (e.g. "would violate PodSecurity").
        self.warnings: list[str] = []

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
            transport=self._transport,
        )
        # lightkube does not surface the API server's warnings; its HTTP client's response
        # hook does (the one place, with /version below, that reaches past lightkube's API).
        client._client._client.event_hooks["response"].append(self._record_warnings)
        return client

    def _record_warnings(self, response: httpx.Response) -> None:
        for value in response.headers.get_list("warning"):
            code, _, text = value.partition(" ")
            self.warnings.append(text.removeprefix("-").strip().strip('"') if code else value)

    @property
    def _api(self) -> Any:
        """:attr:`client`, untyped: lightkube's overloads cannot see a resource class
        chosen at run time; this wrapper is the typed boundary."""
        return self.client

    @contextlib.contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        """Map an API or connection failure of ``what`` to one sentence."""
        try:
            yield
        except PlatformError:
            raise
        except (ApiError, httpx.HTTPError, OSError) as err:
            raise PlatformError(f"{what} failed: {_reason(err)}") from err

    def version(self) -> str:
        """The API server's ``gitVersion`` (GET /version): proves the cluster answers."""
        with self._calling(f"reaching the cluster of {self.kubeconfig}"):
            # lightkube has no call for /version; its HTTP client already carries the
            # kubeconfig's server, CA and credentials.
            resp = self._api._client._client.get("/version")
            resp.raise_for_status()
            return str(resp.json().get("gitVersion", "?"))

    def get(
        self, res: type[Resource], name: str, *, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        with self._calling(f"reading {res.__name__} {name}"):
            try:
                return _as_dict(self._api.get(res, name, namespace=namespace))
            except ApiError as err:
                if err.status.code == 404:
                    return None
                raise

    def find(
        self,
        res: type[Resource],
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | str | None = None,
    ) -> list[dict[str, Any]]:
        """The objects of ``res`` (in ``namespace``; matching ``labels``: a map, or a
        selector of ``k=v`` terms)."""
        if isinstance(labels, str):
            labels = dict(p.split("=", 1) for p in labels.split(",") if p)
        with self._calling(f"listing {res.__name__}"):
            return [_as_dict(o) for o in self._api.list(res, namespace=namespace, labels=labels)]

    def apply(
        self, doc: Mapping[str, Any], *, namespace: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Server-side apply of one object (a dict with apiVersion and kind)."""
        objs = load_all_yaml(_yaml_of(doc), create_resources_for_crds=True)
        return self._apply(objs[0], namespace, dry_run)

    def apply_yaml(
        self, text: str, *, namespace: str | None = None, dry_run: bool = False
    ) -> list[dict[str, Any]]:
        """Server-side apply of every object in a YAML stream, in order (CRDs first in the
        stream make their kinds known to the objects after them)."""
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
        """Create or update the namespace ``name`` with ``labels`` (Pod Security restricted)."""
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
        """A JSON merge patch of one object (say, an annotation that asks a controller to
        act), outside server-side apply's field ownership."""
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
        """Delete the object; False when it did not exist."""
        with self._calling(f"deleting {res.__name__} {name}"):
            try:
                self._api.delete(res, name, namespace=namespace, grace_period=grace_period)
            except ApiError as err:
                if err.status.code == 404:
                    return False
                raise
        return True

    def logs(
        self, pod: str, *, namespace: str, container: str | None = None, tail: int | None = None
    ) -> str:
        """The pod's log (its last ``tail`` lines)."""
        with self._calling(f"reading the log of pod {pod}"):
            lines = self._api.log(pod, namespace=namespace, container=container, tail_lines=tail)
            return "".join(lines)


def _yaml_of(doc: Mapping[str, Any]) -> str:
    import json

    return json.dumps(dict(doc))  # JSON is YAML
