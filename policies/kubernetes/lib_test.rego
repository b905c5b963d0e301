package kubernetes.lib_test

import data.kubernetes.fixtures_test as fx
import data.kubernetes.lib

test_pod_spec_of_each_kind if {
	lib.pod_spec == fx.pod_spec with input as fx.deployment
	lib.pod_spec == fx.pod_spec with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": fx.pod_spec}
	cron := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": fx.pod_spec}}}}}
	lib.pod_spec == fx.pod_spec with input as cron
}

test_no_pod_spec_for_other_kinds if {
	not lib.pod_spec with input as {"kind": "Service", "metadata": {"name": "s"}, "spec": {}}
}

test_containers_include_init_containers if {
	init := json.patch(fx.deployment, [{"op": "add", "path": "/spec/template/spec/initContainers", "value": [{"name": "init"}]}])
	types := {c.type | some c in lib.containers} with input as init
	types == {"container", "init container"}
}

test_container_security_value_overrides_pod if {
	c := {"name": "x", "securityContext": {"runAsNonRoot": false}}
	lib.security_value(c, ["runAsNonRoot"]) == false with input as fx.deployment
	lib.security_value({"name": "y"}, ["runAsNonRoot"]) == true with input as fx.deployment
}

test_between if {
	lib.between(1, 1, 5)
	lib.between(5, 1, 5)
	not lib.between(0, 1, 5)
	not lib.between(6, 1, 5)
}
