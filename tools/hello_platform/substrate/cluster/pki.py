"""The cluster's certificates, generated with ``cryptography`` (ECDSA P-256).

Two CAs: the cluster CA (signs every component and client certificate, and is the
trust root pods see) and the front-proxy CA (the aggregation layer's request-header
CA, so that metrics-server trusts the API server's proxied requests). Plus the
service-account signing key pair. Existing files are reused; a leaf certificate is
re-issued when it is missing, expires within 30 days, or lacks a wanted name.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hello_platform.substrate.cluster import layout

CA_DAYS = 3650
LEAF_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=30)

SERVER = (ExtendedKeyUsageOID.SERVER_AUTH,)
CLIENT = (ExtendedKeyUsageOID.CLIENT_AUTH,)
BOTH = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)


@dataclass(frozen=True)
class Leaf:
    """One certificate to issue: file stem, subject, SANs, usages and its CA."""

    name: str
    cn: str
    orgs: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    usages: tuple[x509.ObjectIdentifier, ...] = CLIENT
    ca: str = "ca"
    extra: dict[str, str] = field(default_factory=dict)


def leaves() -> list[Leaf]:
    """Every leaf certificate the cluster uses."""
    api_dns = (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{layout.CLUSTER_DOMAIN}",
        "localhost",
        layout.NODE_NAME,
    )
    return [
        Leaf("etcd-server", "etcd", dns=("localhost",), ips=("127.0.0.1",), usages=BOTH),
        Leaf("apiserver-etcd-client", "kube-apiserver-etcd-client"),
        Leaf(
            "apiserver",
            "kube-apiserver",
            dns=api_dns,
            ips=("127.0.0.1", layout.NODE_IP, layout.KUBERNETES_SERVICE_IP),
            usages=SERVER,
        ),
        Leaf("apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
        Leaf("front-proxy-client", "front-proxy-client", ca="front-proxy-ca"),
        Leaf("admin", "hello-platform-admin", orgs=("system:masters",)),
        Leaf("controller-manager", "system:kube-controller-manager"),
        Leaf("scheduler", "system:kube-scheduler"),
        Leaf("kube-proxy", "system:kube-proxy"),
        Leaf("kubelet-client", f"system:node:{layout.NODE_NAME}", orgs=("system:nodes",)),
        Leaf(
            "kubelet-server",
            layout.NODE_NAME,
            dns=(layout.NODE_NAME, "localhost"),
            ips=(layout.NODE_IP, "127.0.0.1"),
            usages=SERVER,
        ),
    ]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not an EC private key")
    return key


def _name(cn: str, orgs: Iterable[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def ensure_ca(pki: Path, name: str, cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Load the CA ``name`` from ``pki``, creating it if missing."""
    crt, key_path = pki / f"{name}.crt", pki / f"{name}.key"
    if crt.exists() and key_path.exists():
        return load_cert(crt), load_key(key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    _write_cert(crt, cert)
    return cert, key


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    """The DNS names and IP addresses a certificate is valid for."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    dns = set(ext.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    return dns, ips


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True if ``ca``'s key really signed ``cert`` (not merely a CA of the same name)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def needs_issue(path: Path, leaf: Leaf, ca: x509.Certificate) -> bool:
    """True if the certificate at ``path`` is missing, expiring, foreign or lacks names.

    Foreign means not signed by the current CA's key: a regenerated CA keeps its subject
    name, so comparing issuer names alone would keep every old leaf.
    """
    if not path.exists() or not path.with_suffix(".key").exists():
        return True
    cert = load_cert(path)
    if cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        return True
    if not signed_by(cert, ca):
        return True
    dns, ips = sans(cert)
    return not (set(leaf.dns) <= dns and set(leaf.ips) <= ips)


def issue(
    leaf: Leaf, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new key and certificate for ``leaf``, signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(leaf.cn, leaf.orgs))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(leaf.usages)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in leaf.dns]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in leaf.ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def ensure_service_account_keys(pki: Path) -> None:
    """The key pair that signs (sa.key) and verifies (sa.pub) service-account tokens."""
    priv, pub = pki / "sa.key", pki / "sa.pub"
    if priv.exists() and pub.exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    _write_key(priv, key)
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def ensure_pki(pki: Path, wanted: Sequence[Leaf] | None = None) -> list[str]:
    """Create whatever is missing or stale under ``pki``; return the names (re)issued."""
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o700)
    cas = {
        "ca": ensure_ca(pki, "ca", "hello-platform-ca"),
        "front-proxy-ca": ensure_ca(pki, "front-proxy-ca", "hello-platform-front-proxy-ca"),
    }
    ensure_service_account_keys(pki)
    issued = []
    for leaf in wanted if wanted is not None else leaves():
        ca, ca_key = cas[leaf.ca]
        crt = pki / f"{leaf.name}.crt"
        if needs_issue(crt, leaf, ca):
            cert, key = issue(leaf, ca, ca_key)
            _write_key(pki / f"{leaf.name}.key", key)
            _write_cert(crt, cert)
            issued.append(leaf.name)
    return issued
