package kubernetes.autoscaling_test

import data.kubernetes.autoscaling
import data.kubernetes.fixtures_test as fx

test_v2_hpa_allowed if {
	count(autoscaling.deny) == 0 with input as fx.hpa
}

test_hp020_v2beta2_denied if {
	hpa := object.union(fx.hpa, {"apiVersion": "autoscaling/v2beta2"})
	msgs := autoscaling.deny with input as hpa
	msgs == {{"id": "HP020", "msg": "HorizontalPodAutoscaler/hello uses autoscaling/v2beta2; use autoscaling/v2 (v2beta2 was removed in Kubernetes 1.26)"}}
}

test_hp021_empty_range_denied if {
	hpa := object.union(fx.hpa, {"spec": {"minReplicas": 5, "maxReplicas": 3}})
	msgs := autoscaling.deny with input as hpa
	msgs == {{"id": "HP021", "msg": "HorizontalPodAutoscaler/hello has minReplicas 5 above maxReplicas 3"}}
}

test_hp021_equal_and_default_min_allowed if {
	no_min := json.patch(fx.hpa, [{"op": "remove", "path": "/spec/minReplicas"}, {"op": "replace", "path": "/spec/maxReplicas", "value": 1}])
	count(autoscaling.deny) == 0 with input as no_min
	count(autoscaling.deny) == 0 with input as object.union(fx.hpa, {"spec": {"minReplicas": 3, "maxReplicas": 3}})
}

test_scaled_object_allowed if {
	count(autoscaling.deny) == 0 with input as fx.scaled_object
}

test_scaled_object_to_zero_denied if {
	so := object.union(fx.scaled_object, {"spec": {"minReplicaCount": 0}})
	msgs := autoscaling.deny with input as so
	msgs == {{"id": "HP022", "msg": "ScaledObject/hello has minReplicaCount 0, maxReplicaCount 5; need 1 <= min <= max"}}
}

test_scaled_object_default_min_denied if {
	so := json.patch(fx.scaled_object, [{"op": "remove", "path": "/spec/minReplicaCount"}])
	msgs := autoscaling.deny with input as so
	msgs == {{"id": "HP022", "msg": "ScaledObject/hello has minReplicaCount 0, maxReplicaCount 5; need 1 <= min <= max"}}
}

test_scaled_object_inverted_range_denied if {
	so := object.union(fx.scaled_object, {"spec": {"minReplicaCount": 6}})
	msgs := autoscaling.deny with input as so
	msgs == {{"id": "HP022", "msg": "ScaledObject/hello has minReplicaCount 6, maxReplicaCount 5; need 1 <= min <= max"}}
}

test_scaled_object_without_fallback_denied if {
	so := json.patch(fx.scaled_object, [{"op": "remove", "path": "/spec/fallback"}])
	msgs := autoscaling.deny with input as so
	msgs == {{"id": "HP023", "msg": "ScaledObject/hello has no fallback.replicas >= 1; a missing metric must hold replicas"}}
}
