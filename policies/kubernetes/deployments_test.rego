package kubernetes.deployments_test

import data.kubernetes.deployments
import data.kubernetes.fixtures_test as fx

denied(id, manifest) if {
	some d in deployments.deny with input as manifest
	d.id == id
}

test_hardened_deployment_allowed if {
	count(deployments.deny) == 0 with input as fx.deployment
}

test_probes_only_required_of_deployments if {
	pod_spec := json.patch(fx.pod_spec, [{"op": "remove", "path": "/containers/0/livenessProbe"}])
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello-test"}, "spec": pod_spec}
	count(deployments.deny) == 0 with input as pod
}

test_hp010_missing_probes_denied if {
	manifest := fx.patched("remove", "/spec/template/spec/containers/0/readinessProbe", null)
	msgs := deployments.deny with input as manifest
	msgs == {{"id": "HP010", "msg": "Deployment/hello container 'hello' has no readinessProbe"}}
	denied("HP010", fx.patched("remove", "/spec/template/spec/containers/0/livenessProbe", null))
}

test_hp011_token_mounted_denied if {
	denied("HP011", fx.patched("remove", "/spec/template/spec/automountServiceAccountToken", null))
	denied("HP011", fx.patched("replace", "/spec/template/spec/automountServiceAccountToken", true))
}

test_hp011_api_client_with_a_reason_passes if {
	tokened := fx.patched("remove", "/spec/template/spec/automountServiceAccountToken", null)
	reason := {"op": "add", "path": "/spec/template/metadata/annotations/hello-platform.dev~1kubernetes-api", "value": "watches nodes"}
	not denied("HP011", json.patch(tokened, [reason]))
	blank := object.union(reason, {"value": " "})
	denied("HP011", json.patch(tokened, [blank]))
}

test_hp012_host_namespaces_denied if {
	denied("HP012", fx.patched("add", "/spec/template/spec/hostNetwork", true))
	denied("HP012", fx.patched("add", "/spec/template/spec/hostPID", true))
	denied("HP012", fx.patched("add", "/spec/template/spec/hostIPC", true))
	not denied("HP012", fx.patched("add", "/spec/template/spec/hostNetwork", false))
}

test_hp013_host_path_denied if {
	volume := {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}
	manifest := fx.patched("add", "/spec/template/spec/volumes/-", volume)
	msgs := deployments.deny with input as manifest
	msgs == {{"id": "HP013", "msg": "Deployment/hello volume 'docker' must not be a hostPath"}}
}
