# METADATA
# title: HorizontalPodAutoscalers
# description: >-
#   HPAs use autoscaling/v2 (v2beta2 was removed in Kubernetes 1.26) and a replica range
#   that is not empty.
package kubernetes.autoscaling

import data.kubernetes.lib

# METADATA
# title: HPA is autoscaling/v2
# description: A HorizontalPodAutoscaler uses apiVersion autoscaling/v2.
# custom:
#   id: HP020
deny contains msg if {
	input.kind == "HorizontalPodAutoscaler"
	input.apiVersion != "autoscaling/v2"
	msg := sprintf("HP020: %s uses %s; use autoscaling/v2 (v2beta2 was removed in Kubernetes 1.26)", [lib.resource, input.apiVersion])
}

# METADATA
# title: HPA replica range
# description: minReplicas (default 1) is at most maxReplicas.
# custom:
#   id: HP021
deny contains msg if {
	input.kind == "HorizontalPodAutoscaler"
	lowest := object.get(input.spec, "minReplicas", 1)
	lowest > input.spec.maxReplicas
	msg := sprintf("HP021: %s has minReplicas %d above maxReplicas %d", [lib.resource, lowest, input.spec.maxReplicas])
}
