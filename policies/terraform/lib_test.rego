# METADATA
# title: Tests of terraform.lib
# description: Source and plan give the same view of a resource.
package terraform.lib_test

import data.terraform.lib

test_source_and_plan_give_one_view if {
	attrs := {"image_tag_mutability": "IMMUTABLE"}
	source := {"resource": {"aws_ecr_repository": {"this": [attrs]}}}
	plan := {"resource_changes": [{
		"address": "aws_ecr_repository.this", "mode": "managed", "type": "aws_ecr_repository",
		"change": {"actions": ["create"], "after": attrs},
	}]}
	view := {"type": "aws_ecr_repository", "address": "aws_ecr_repository.this", "attrs": attrs, "unknown": {}}
	lib.resources == {view} with input as source
	lib.resources == {view} with input as plan
}

test_replaced_resource_counted_once if {
	rc := {"address": "a.b", "mode": "managed", "type": "a", "change": {"actions": ["delete", "create"], "after": {}}}
	count(lib.resources) == 1 with input as {"resource_changes": [rc]}
}

test_data_sources_of_a_plan_ignored if {
	rc := {"address": "data.a.b", "mode": "data", "type": "a", "change": {"actions": ["read"], "after": {}}}
	count(lib.resources) == 0 with input as {"resource_changes": [rc]}
}

test_set_counts_values_known_at_apply if {
	lib.set({"attrs": {"k": "v"}, "unknown": {}}, ["k"])
	lib.set({"attrs": {}, "unknown": {"k": true}}, ["k"])
	not lib.set({"attrs": {"k": ""}, "unknown": {}}, ["k"])
	not lib.set({"attrs": {"k": null}, "unknown": {}}, ["k"])
}

test_trust_statements_keep_literal_values_only if {
	statement := {
		"actions": "sts:AssumeRoleWithWebIdentity",
		"condition": [{"test": "StringEquals", "variable": "x:sub", "values": ["repo:o/*", "${var.subject}"]}],
	}
	source := {"data": {"aws_iam_policy_document": {"trust": [{"statement": [statement]}]}}}
	lib.trust_statements == {{
		"address": "data.aws_iam_policy_document.trust",
		"actions": ["sts:AssumeRoleWithWebIdentity"],
		"conditions": [{"test": "StringEquals", "variable": "x:sub", "values": ["repo:o/*"]}],
	}} with input as source
}

test_trust_statements_of_a_role_policy if {
	policy := json.marshal({"Statement": {"Action": ["sts:AssumeRoleWithWebIdentity"], "Condition": {"StringLike": {"x:sub": "repo:o/*"}}}})
	rc := {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "change": {"actions": ["create"], "after": {"assume_role_policy": policy}}}
	lib.trust_statements == {{
		"address": "aws_iam_role.r",
		"actions": ["sts:AssumeRoleWithWebIdentity"],
		"conditions": [{"test": "StringLike", "variable": "x:sub", "values": ["repo:o/*"]}],
	}} with input as {"resource_changes": [rc]}
}
