"""The cluster's certificates (ECDSA P-256): the cluster CA, the front-proxy CA (the
aggregation layer's request-header CA), their leaves and the service-account key pair."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    name: str
    cn: str
    orgs: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    usages: tuple[x509.ObjectIdentifier, ...] = CLIENT
    ca: str = "ca"


def leaves() -> list[Leaf]:
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


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.CertificateBuilder:
    """Subject, validity, basic constraints and key usage of a CA (``ca``) or leaf."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS if ca else LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def ensure_ca(pki: Path, name: str, cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    crt, key_path = pki / f"{name}.crt", pki / f"{name}.key"
    if crt.exists() and key_path.exists():
        return load_cert(crt), load_key(key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(cn), _name(cn), key, ca=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    _write_cert(crt, cert)
    return cert, key


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
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
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < RENEW_BEFORE:
        return True
    if not signed_by(cert, ca):
        return True
    dns, ips = sans(cert)
    return not (set(leaf.dns) <= dns and set(leaf.ips) <= ips)


def issue(
    leaf: Leaf, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(leaf.cn, leaf.orgs), ca.subject, key, ca=False)
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
