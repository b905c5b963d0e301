# METADATA
# title: Namespaces
# description: A rendered Namespace that enforces a Pod Security level enforces restricted.
package kubernetes.namespaces

import data.kubernetes.lib

# METADATA
# title: Pod Security enforce level is restricted
# description: The pod-security.kubernetes.io/enforce label, when present, is restricted.
# custom:
#   id: HP040
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "Namespace"
	level := input.metadata.labels["pod-security.kubernetes.io/enforce"]
	level != "restricted"
	msg := sprintf("%s enforces Pod Security level '%s'; use restricted", [lib.resource, level])
}
