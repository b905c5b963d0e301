# METADATA
# title: Hardened containers
# description: >-
#   Every container of every pod-bearing manifest (Deployments, Pods such as helm test pods,
#   Jobs ...), init containers included, runs non-root with a read-only root filesystem,
#   no privilege escalation, no capabilities, the RuntimeDefault seccomp profile, bounded
#   resources and a pinned image.
package kubernetes.containers

import data.kubernetes.lib

# METADATA
# title: Run as non-root
# description: securityContext.runAsNonRoot is true (set on the container or its pod).
# custom:
#   id: HP001
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	lib.security_value(c.spec, ["runAsNonRoot"]) != true
	msg := sprintf("%s must run as non-root (securityContext.runAsNonRoot: true)", [lib.describe(c)])
}

# METADATA
# title: No privilege escalation
# description: securityContext.allowPrivilegeEscalation is false on every container.
# custom:
#   id: HP002
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	object.get(c.spec, ["securityContext", "allowPrivilegeEscalation"], null) != false
	msg := sprintf("%s must set securityContext.allowPrivilegeEscalation: false", [lib.describe(c)])
}

# METADATA
# title: Read-only root filesystem
# description: securityContext.readOnlyRootFilesystem is true on every container.
# custom:
#   id: HP003
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	object.get(c.spec, ["securityContext", "readOnlyRootFilesystem"], null) != true
	msg := sprintf("%s must set securityContext.readOnlyRootFilesystem: true", [lib.describe(c)])
}

# METADATA
# title: Drop all capabilities
# description: securityContext.capabilities.drop contains ALL on every container.
# custom:
#   id: HP004
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	not "ALL" in object.get(c.spec, ["securityContext", "capabilities", "drop"], [])
	msg := sprintf("%s must drop all capabilities (securityContext.capabilities.drop: [ALL])", [lib.describe(c)])
}

# METADATA
# title: RuntimeDefault seccomp profile
# description: seccompProfile.type is RuntimeDefault, on the container or inherited from its pod.
# custom:
#   id: HP005
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	lib.security_value(c.spec, ["seccompProfile", "type"]) != "RuntimeDefault"
	msg := sprintf("%s must use the RuntimeDefault seccomp profile (securityContext.seccompProfile.type, pod or container)", [lib.describe(c)])
}

# METADATA
# title: Resource requests and limits
# description: Every container requests and limits both cpu and memory.
# custom:
#   id: HP006
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	some bound in ["requests", "limits"]
	some quantity in ["cpu", "memory"]
	object.get(c.spec, ["resources", bound, quantity], null) == null
	msg := sprintf("%s must set resources.%s.%s", [lib.describe(c), bound, quantity])
}

# METADATA
# title: Pinned image
# description: The image has a tag other than latest, or a digest.
# custom:
#   id: HP007
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some c in lib.containers
	why := unpinned(c.spec.image)
	msg := sprintf("%s uses %s; pin a version tag or a digest", [lib.describe(c), why])
}

unpinned(image) := sprintf("the mutable tag 'latest' (%s)", [image]) if latest(image)

unpinned(image) := sprintf("an untagged image (%s), which means 'latest'", [image]) if untagged(image)

latest(image) if endswith(split(image, "@")[0], ":latest")

untagged(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}
