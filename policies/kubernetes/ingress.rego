# METADATA
# title: Ingresses
# description: >-
#   What an Ingress publishes: an internet-facing one serves HTTPS only, and none routes the
#   Prometheus metrics (the app serves them on a port of their own, for the cluster's
#   Prometheus, never for the internet).
package kubernetes.ingress

import data.kubernetes.lib

annotations := object.get(input, ["metadata", "annotations"], {})

# The AWS Load Balancer Controller's Ingress (internal unless its scheme says otherwise).
alb if input.spec.ingressClassName == "alb"

alb if annotations["kubernetes.io/ingress.class"] == "alb"

# An ALB with scheme internet-facing, or an Ingress of any other controller (they serve
# whoever reaches them).
internet_facing if {
	alb
	annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
}

internet_facing if not alb

# The ALB's listeners: its listen-ports annotation, HTTP 80 when it has none.
listeners contains protocol if {
	some port in json.unmarshal(annotations["alb.ingress.kubernetes.io/listen-ports"])
	some protocol, _ in port
}

listeners contains "HTTP" if not annotations["alb.ingress.kubernetes.io/listen-ports"]

# TLS: spec.tls, or an ALB that listens on HTTPS with a certificate and serves no plain
# HTTP (no HTTP listener, or HTTP redirected by ssl-redirect).
tls if count(object.get(input, ["spec", "tls"], [])) > 0

tls if {
	alb
	annotations["alb.ingress.kubernetes.io/certificate-arn"] != ""
	"HTTPS" in listeners
	plain_http_redirected
}

plain_http_redirected if not "HTTP" in listeners

plain_http_redirected if annotations["alb.ingress.kubernetes.io/ssl-redirect"] != ""

# METADATA
# title: An internet-facing Ingress serves HTTPS only
# description: >-
#   An Ingress reachable from the internet (an ALB with scheme internet-facing, or another
#   controller's) has TLS: spec.tls, or for an ALB a certificate-arn with an HTTPS listener
#   and HTTP redirected by ssl-redirect.
# custom:
#   id: HP050
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "Ingress"
	internet_facing
	not tls
	msg := sprintf("%s is internet-facing without TLS; give it spec.tls, or for an ALB the certificate-arn annotation with an HTTPS listen port and ssl-redirect", [lib.resource])
}

# Every path of every rule.
paths contains p if {
	some rule in object.get(input, ["spec", "rules"], [])
	some p in object.get(rule, ["http", "paths"], [])
}

# A Prefix path covers /metrics when it is "/" or /metrics itself (Kubernetes matches
# prefixes element by element and ignores a trailing slash).
routes_metrics(p) if {
	p.pathType == "Prefix"
	trim_right(p.path, "/") in {"", "/metrics"}
}

routes_metrics(p) if {
	p.pathType == "Exact"
	trim_right(p.path, "/") == "/metrics"
}

# ImplementationSpecific (an ALB's wildcards, a regex): any path /metrics starts with.
routes_metrics(p) if {
	not p.pathType in {"Exact", "Prefix"}
	startswith("/metrics", trim_right(p.path, "*"))
}

routes_metrics(p) if p.backend.service.port.name == "metrics"

# How the Ingress reaches /metrics, one sentence each.
metrics_routes contains sprintf("path '%s' %s", [p.path, object.get(p, "pathType", "ImplementationSpecific")]) if {
	some p in paths
	routes_metrics(p)
}

metrics_routes contains "a default backend, which routes every path" if input.spec.defaultBackend

# METADATA
# title: No Ingress routes /metrics
# description: >-
#   No path of an Ingress reaches /metrics: not /metrics itself, not a "/" Prefix (which
#   routes every path, /docs and /openapi.json too), not the metrics port, and no default
#   backend. Route the app's public paths, Exact or Prefix.
# custom:
#   id: HP051
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "Ingress"
	some how in metrics_routes
	msg := sprintf("%s routes /metrics (%s); route the app's public paths only", [lib.resource, how])
}
