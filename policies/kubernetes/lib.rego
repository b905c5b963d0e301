# METADATA
# title: Helpers for the Kubernetes manifest policies
# description: >-
#   Where a manifest keeps its pod spec, its containers (init containers included)
#   and the name that messages use for it. Conftest feeds one manifest per input.
package kubernetes.lib

# Kinds whose pod spec sits at spec.template.spec.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# "Kind/name" of the manifest under test, as every message names it.
resource := sprintf("%s/%s", [input.kind, input.metadata.name])

pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in template_kinds

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

# Every container of the pod spec, with what it is ("container", "init container").
containers contains {"type": "container", "spec": c} if {
	some c in object.get(pod_spec, "containers", [])
}

containers contains {"type": "init container", "spec": c} if {
	some c in object.get(pod_spec, "initContainers", [])
}

# A securityContext field (a path below securityContext) of a container, else of its pod;
# null when neither sets it.
security_value(container, path) := object.get(
	container,
	array.concat(["securityContext"], path),
	object.get(pod_spec, array.concat(["securityContext"], path), null),
)

# "Kind/name container 'x'" for messages.
describe(c) := sprintf("%s %s '%s'", [resource, c.type, c.spec.name])

# True when low <= x <= high.
between(x, low, high) if {
	low <= x
	x <= high
}
