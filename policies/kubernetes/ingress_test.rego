package kubernetes.ingress_test

import data.kubernetes.fixtures_test as fx
import data.kubernetes.ingress

annotation(key) := sprintf("/metadata/annotations/%s", [replace(key, "/", "~1")])

without(keys) := fx.ingress_patched([{"op": "remove", "path": annotation(k)} | some k in keys])

with_path(path, type) := fx.ingress_patched([{"op": "add", "path": "/spec/rules/0/http/paths/-", "value": {
	"path": path,
	"pathType": type,
	"backend": {"service": {"name": "hello", "port": {"name": "http"}}},
}}])

ids(manifest) := {d.id | some d in ingress.deny with input as manifest}

test_https_alb_with_public_paths_allowed if {
	count(ingress.deny) == 0 with input as fx.ingress
}

test_tls_secret_allowed if {
	manifest := json.patch(without(["alb.ingress.kubernetes.io/certificate-arn"]), [
		{"op": "replace", "path": "/spec/ingressClassName", "value": "nginx"},
		{"op": "add", "path": "/spec/tls", "value": [{"hosts": ["hello.example.com"], "secretName": "tls"}]},
	])
	count(ingress.deny) == 0 with input as manifest
}

test_internal_alb_without_tls_allowed if {
	manifest := without([
		"alb.ingress.kubernetes.io/scheme",
		"alb.ingress.kubernetes.io/certificate-arn",
		"alb.ingress.kubernetes.io/listen-ports",
	])
	count(ingress.deny) == 0 with input as manifest
}

test_https_only_alb_needs_no_redirect if {
	manifest := json.patch(without(["alb.ingress.kubernetes.io/ssl-redirect"]), [{
		"op": "replace",
		"path": annotation("alb.ingress.kubernetes.io/listen-ports"),
		"value": `[{"HTTPS": 443}]`,
	}])
	count(ingress.deny) == 0 with input as manifest
}

test_hp050_internet_facing_alb_without_certificate_denied if {
	msgs := ingress.deny with input as without(["alb.ingress.kubernetes.io/certificate-arn"])
	msgs == {{"id": "HP050", "msg": "Ingress/hello is internet-facing without TLS; give it spec.tls, or for an ALB the certificate-arn annotation with an HTTPS listen port and ssl-redirect"}}
}

test_hp050_alb_on_port_80_only_denied if {
	ids(without(["alb.ingress.kubernetes.io/listen-ports"])) == {"HP050"}
}

test_hp050_plain_http_beside_https_denied if {
	ids(without(["alb.ingress.kubernetes.io/ssl-redirect"])) == {"HP050"}
}

test_hp050_other_controller_without_tls_denied if {
	manifest := fx.ingress_patched([{"op": "replace", "path": "/spec/ingressClassName", "value": "nginx"}])
	ids(manifest) == {"HP050"}
}

test_hp051_root_prefix_denied if {
	msgs := ingress.deny with input as with_path("/", "Prefix")
	msgs == {{"id": "HP051", "msg": "Ingress/hello routes /metrics (path '/' Prefix); route the app's public paths only"}}
}

test_hp051_metrics_paths_denied if {
	ids(with_path("/metrics", "Exact")) == {"HP051"}
	ids(with_path("/metrics/", "Prefix")) == {"HP051"}
	ids(with_path("/*", "ImplementationSpecific")) == {"HP051"}
	ids(with_path("/met*", "ImplementationSpecific")) == {"HP051"}
}

test_hp051_metrics_port_and_default_backend_denied if {
	port := fx.ingress_patched([{"op": "replace", "path": "/spec/rules/0/http/paths/1/backend/service/port/name", "value": "metrics"}])
	ids(port) == {"HP051"}
	backend := fx.ingress_patched([{"op": "add", "path": "/spec/defaultBackend", "value": {"service": {"name": "hello", "port": {"name": "http"}}}}])
	msgs := ingress.deny with input as backend
	msgs == {{"id": "HP051", "msg": "Ingress/hello routes /metrics (a default backend, which routes every path); route the app's public paths only"}}
}

test_prefixes_that_do_not_cover_metrics_allowed if {
	count(ingress.deny) == 0 with input as with_path("/version", "Prefix")
	count(ingress.deny) == 0 with input as with_path("/met", "Prefix")
	count(ingress.deny) == 0 with input as with_path("/metricsx", "Exact")
}
