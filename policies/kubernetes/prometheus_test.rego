package kubernetes.prometheus_test

import data.kubernetes.fixtures_test as fx
import data.kubernetes.prometheus

test_exact_scrape_annotations_allowed if {
	count(prometheus.deny) == 0 with input as fx.deployment
}

test_other_annotations_allowed if {
	svc := {"kind": "Service", "metadata": {"name": "hello", "annotations": {"prometheus-operator/x": "1", "a": "b"}}}
	count(prometheus.deny) == 0 with input as svc
}

test_hp030_misspelt_pod_annotation_denied if {
	manifest := fx.patched("add", "/spec/template/metadata/annotations/prometheus_io_path", "/metrics")
	msgs := prometheus.deny with input as manifest
	msgs == {{"id": "HP030", "msg": "Deployment/hello has annotation 'prometheus_io_path'; Prometheus reads only prometheus.io/scrape, prometheus.io/path and prometheus.io/port"}}
}

test_hp030_misspelt_manifest_annotation_denied if {
	svc := {"kind": "Service", "metadata": {"name": "hello", "annotations": {"prometheus.io.scrape": "true", "prometheus.io/paht": "/m"}}}
	count(prometheus.deny) == 2 with input as svc
}
