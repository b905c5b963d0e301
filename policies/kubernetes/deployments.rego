# METADATA
# title: Deployments and pod isolation
# description: >-
#   Deployments probe every container and mount no service account token; no pod spec
#   shares the node's network, PID or IPC namespace or mounts a node path.
package kubernetes.deployments

import data.kubernetes.lib

# METADATA
# title: Liveness and readiness probes
# description: Every container of a Deployment has a livenessProbe and a readinessProbe.
# custom:
#   id: HP010
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "Deployment"
	some c in lib.pod_spec.containers
	some probe in ["livenessProbe", "readinessProbe"]
	not c[probe]
	msg := sprintf("%s container '%s' has no %s", [lib.resource, c.name, probe])
}

# METADATA
# title: No service account token
# description: >-
#   A Deployment's pods set automountServiceAccountToken to false, unless the pod template
#   says why it calls the Kubernetes API (annotation hello-platform.dev/kubernetes-api: a
#   controller such as a cluster add-on, whose RBAC then bounds what the token may do).
# custom:
#   id: HP011
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	input.kind == "Deployment"
	object.get(lib.pod_spec, "automountServiceAccountToken", null) != false
	not api_client
	msg := sprintf("%s must set spec.template.spec.automountServiceAccountToken: false (or say why it calls the API: annotation %s)", [lib.resource, api_annotation])
}

api_annotation := "hello-platform.dev/kubernetes-api"

api_client if {
	annotations := object.get(input.spec.template, ["metadata", "annotations"], {})
	trim_space(object.get(annotations, api_annotation, "")) != ""
}

# METADATA
# title: No host namespaces
# description: No pod spec sets hostNetwork, hostPID or hostIPC.
# custom:
#   id: HP012
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	lib.pod_spec[field] == true
	msg := sprintf("%s must not set %s: true", [lib.resource, field])
}

# METADATA
# title: No hostPath volumes
# description: No pod spec mounts a hostPath volume.
# custom:
#   id: HP013
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some volume in object.get(lib.pod_spec, "volumes", [])
	volume.hostPath
	msg := sprintf("%s volume '%s' must not be a hostPath", [lib.resource, volume.name])
}
