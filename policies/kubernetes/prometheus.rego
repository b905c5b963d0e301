# METADATA
# title: Prometheus scrape annotations
# description: >-
#   Annotation-based scraping only works with the exact keys prometheus.io/scrape, /path
#   and /port; a near miss such as prometheus_io_path is silently ignored by Prometheus.
package kubernetes.prometheus

import data.kubernetes.lib

allowed := {"prometheus.io/scrape", "prometheus.io/path", "prometheus.io/port"}

# METADATA
# title: Exact scrape annotation keys
# description: >-
#   Any annotation key (on the manifest or a pod template) that looks like a Prometheus
#   scrape annotation is one of prometheus.io/scrape, prometheus.io/path, prometheus.io/port.
# custom:
#   id: HP030
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	walk(input, [path, annotations])
	count(path) >= 2
	array.slice(path, count(path) - 2, count(path)) == ["metadata", "annotations"]
	some key, _ in annotations
	regex.match(`^prometheus[._]io[._/]`, key)
	not key in allowed
	msg := sprintf("%s has annotation '%s'; Prometheus reads only prometheus.io/scrape, prometheus.io/path and prometheus.io/port", [lib.resource, key])
}
