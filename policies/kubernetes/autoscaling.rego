# METADATA
# title: HorizontalPodAutoscalers and KEDA ScaledObjects
# description: >-
#   HPAs use autoscaling/v2 (v2beta2 was removed in Kubernetes 1.26) and a replica range
#   that is not empty; ScaledObjects never scale to zero and hold replicas through a
#   fallback when their metric is missing.
package kubernetes.autoscaling

import data.kubernetes.lib

# METADATA
# title: HPA is autoscaling/v2
# description: A HorizontalPodAutoscaler uses apiVersion autoscaling/v2.
# custom:
#   id: HP020
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "HorizontalPodAutoscaler"
	input.apiVersion != "autoscaling/v2"
	msg := sprintf("%s uses %s; use autoscaling/v2 (v2beta2 was removed in Kubernetes 1.26)", [lib.resource, input.apiVersion])
}

# METADATA
# title: HPA replica range
# description: minReplicas (default 1) is at most maxReplicas.
# custom:
#   id: HP021
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "HorizontalPodAutoscaler"
	lowest := object.get(input.spec, "minReplicas", 1)
	lowest > input.spec.maxReplicas
	msg := sprintf("%s has minReplicas %d above maxReplicas %d", [lib.resource, lowest, input.spec.maxReplicas])
}

# METADATA
# title: ScaledObject replica range
# description: >-
#   A KEDA ScaledObject keeps at least one replica (minReplicaCount, default 0: a web
#   service must not scale to zero) and minReplicaCount is at most maxReplicaCount
#   (default 100).
# custom:
#   id: HP022
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "ScaledObject"
	lowest := object.get(input.spec, "minReplicaCount", 0)
	highest := object.get(input.spec, "maxReplicaCount", 100)
	not lib.between(lowest, 1, highest)
	msg := sprintf("%s has minReplicaCount %d, maxReplicaCount %d; need 1 <= min <= max", [lib.resource, lowest, highest])
}

# METADATA
# title: ScaledObject fallback
# description: >-
#   A KEDA ScaledObject sets fallback.replicas >= 1, so a missing metric (Prometheus down)
#   holds replicas instead of leaving them to a failing query.
# custom:
#   id: HP023
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "ScaledObject"
	object.get(object.get(input.spec, "fallback", {}), "replicas", 0) < 1
	msg := sprintf("%s has no fallback.replicas >= 1; a missing metric must hold replicas", [lib.resource])
}
