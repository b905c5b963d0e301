package kubernetes.containers_test

import data.kubernetes.containers
import data.kubernetes.fixtures_test as fx

# ``c`` with securityContext.``key`` set to ``value``.
with_security(c, key, value) := json.patch(c, [{"op": "add", "path": sprintf("/securityContext/%s", [key]), "value": value}])

denied(id, manifest) if {
	some d in containers.deny with input as manifest
	d.id == id
}

test_hardened_deployment_allowed if {
	count(containers.deny) == 0 with input as fx.deployment
}

test_hardened_test_pod_allowed if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello-test"}, "spec": fx.pod_spec}
	count(containers.deny) == 0 with input as pod
}

test_manifests_without_pods_allowed if {
	count(containers.deny) == 0 with input as {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hello"}}
}

test_hp001_root_denied if {
	denied("HP001", fx.deployment_with(with_security(fx.container, "runAsNonRoot", false)))
	denied("HP001", fx.patched("remove", "/spec/template/spec/securityContext/runAsNonRoot", null))
}

test_hp001_container_level_allowed if {
	no_pod := fx.patched("remove", "/spec/template/spec/securityContext/runAsNonRoot", null)
	manifest := json.patch(no_pod, [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext/runAsNonRoot", "value": true}])
	not denied("HP001", manifest)
}

test_hp001_init_container_denied if {
	init := {"name": "init", "securityContext": {"runAsNonRoot": false}}
	manifest := fx.patched("add", "/spec/template/spec/initContainers", [init])
	some msg in containers.deny with input as manifest
	msg == {"id": "HP001", "msg": "Deployment/hello init container 'init' must run as non-root (securityContext.runAsNonRoot: true)"}
}

test_hp002_privilege_escalation_denied if {
	denied("HP002", fx.deployment_with(with_security(fx.container, "allowPrivilegeEscalation", true)))
	denied("HP002", fx.deployment_with(object.remove(fx.container, ["securityContext"])))
}

test_hp003_writable_root_denied if {
	denied("HP003", fx.deployment_with(with_security(fx.container, "readOnlyRootFilesystem", false)))
}

test_hp004_capabilities_denied if {
	denied("HP004", fx.deployment_with(with_security(fx.container, "capabilities", {"drop": ["NET_RAW"]})))
	denied("HP004", fx.deployment_with(with_security(fx.container, "capabilities", {})))
}

test_hp005_seccomp_denied if {
	denied("HP005", fx.patched("remove", "/spec/template/spec/securityContext/seccompProfile", null))
	denied("HP005", fx.deployment_with(with_security(fx.container, "seccompProfile", {"type": "Unconfined"})))
}

test_hp005_container_level_allowed if {
	no_pod := fx.patched("remove", "/spec/template/spec/securityContext/seccompProfile", null)
	manifest := json.patch(no_pod, [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}])
	not denied("HP005", manifest)
}

test_hp006_missing_resources_denied if {
	manifest := fx.patched("remove", "/spec/template/spec/containers/0/resources/limits/memory", null)
	msgs := containers.deny with input as manifest
	msgs == {{"id": "HP006", "msg": "Deployment/hello container 'hello' must set resources.limits.memory"}}
	no_resources := fx.deployment_with(object.remove(fx.container, ["resources"]))
	count(containers.deny) == 4 with input as no_resources
}

test_hp007_latest_denied if {
	denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "x:latest"})))
	denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "registry.local:5000/x:latest@sha256:abc"})))
}

test_hp007_untagged_denied if {
	denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "registry.local:5000/x"})))
	denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "x"})))
}

test_hp007_pinned_allowed if {
	not denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "registry.local:5000/x:1.2.3"})))
	not denied("HP007", fx.deployment_with(object.union(fx.container, {"image": "registry.local:5000/x@sha256:abc"})))
}
