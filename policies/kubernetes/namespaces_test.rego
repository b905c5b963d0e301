package kubernetes.namespaces_test

import data.kubernetes.namespaces

namespace(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hello", "labels": labels}}

test_restricted_namespace_allowed if {
	count(namespaces.deny) == 0 with input as namespace({"pod-security.kubernetes.io/enforce": "restricted"})
	count(namespaces.deny) == 0 with input as namespace({})
}

test_hp040_baseline_denied if {
	msgs := namespaces.deny with input as namespace({"pod-security.kubernetes.io/enforce": "baseline"})
	msgs == {{"id": "HP040", "msg": "Namespace/hello enforces Pod Security level 'baseline'; use restricted"}}
}
