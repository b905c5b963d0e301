# METADATA
# title: One view of Terraform, from source or from a plan
# description: >-
#   The rules of terraform.aws judge this view, so each is written once whether conftest
#   feeds a .tf file (its hcl2 parser: `resource.TYPE.NAME` is a list of bodies, nested
#   blocks are lists, expressions are "${...}" strings) or a plan (`tofu show -json`:
#   the planned values of every resource it creates or updates, in any module).
package terraform.lib

# Every control-plane log type EKS offers.
eks_log_types := {"api", "audit", "authenticator", "controllerManager", "scheduler"}

# Tag keys every resource carries (the envs set them as the provider's default_tags).
mandatory_tags := {"Project", "Environment", "ManagedBy"}

# Resource types that create IAM users or their long-lived credentials.
iam_user_types := {
	"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile",
	"aws_iam_user_policy", "aws_iam_user_policy_attachment", "aws_iam_user_group_membership",
}

# Every resource as {type, address, attrs, unknown}: `unknown` marks (with true) the values
# a plan knows only at apply, which `after` omits; source has none.
resources contains {"type": type, "address": sprintf("%s.%s", [type, name]), "attrs": body, "unknown": {}} if {
	some type, by_name in object.get(input, "resource", {})
	some name, bodies in by_name
	some body in bodies
}

resources contains r if {
	some rc in object.get(input, "resource_changes", [])
	rc.mode == "managed"
	some action in rc.change.actions
	action in {"create", "update"}
	r := {
		"type": rc.type,
		"address": rc.address,
		"attrs": rc.change.after,
		"unknown": object.get(rc.change, "after_unknown", {}),
	}
}

# The blocks (or list) under key, [] when absent.
blocks(attrs, key) := object.get(attrs, key, [])

# True when the value at path is a non-empty string, or one the plan knows only at apply
# (an expression in source is a "${...}" string, so it counts as set).
set(r, path) if {
	v := object.get(r.attrs, path, null)
	is_string(v)
	v != ""
}

set(r, path) if object.get(r.unknown, path, false) == true

# A value as a list: HCL gives a list for literals and a "${...}" string for expressions;
# IAM JSON gives one statement, action or value alone or in a list.
as_list(v) := v if is_array(v)

as_list(v) := [v] if is_string(v)

as_list(v) := [v] if is_object(v)

as_list(v) := [] if v == null

# An expression of the source ("${...}"), whose value only the plan knows.
expression(v) if {
	is_string(v)
	startswith(v, "${")
}

# An allowlist: a non-empty list of CIDRs without 0.0.0.0/0 (an expression counts as set:
# the variable's own validation, and the same rule over the plan, judge its value).
allowlisted(cidrs) if {
	is_array(cidrs)
	count(cidrs) > 0
	not "0.0.0.0/0" in cidrs
}

allowlisted(cidrs) if expression(cidrs)

# Every statement of a trust policy as {address, actions, conditions: [{test, variable,
# values}]}: from an aws_iam_policy_document (source) or a role's assume_role_policy JSON.
# Only literal values are kept (the plan judges what an expression of the source gives).
trust_statements contains s if {
	some name, docs in object.get(object.get(input, "data", {}), "aws_iam_policy_document", {})
	some doc in docs
	some st in blocks(doc, "statement")
	s := {
		"address": sprintf("data.aws_iam_policy_document.%s", [name]),
		"actions": as_list(object.get(st, "actions", [])),
		"conditions": [c |
			some block in blocks(st, "condition")
			values := [v | some v in as_list(block.values); not expression(v)]
			c := {"test": block.test, "variable": block.variable, "values": values}
		],
	}
}

trust_statements contains s if {
	some r in resources
	r.type == "aws_iam_role"
	policy := object.get(r.attrs, "assume_role_policy", "")
	not expression(policy)
	json.is_valid(policy)
	some st in as_list(object.get(json.unmarshal(policy), "Statement", []))
	s := {
		"address": r.address,
		"actions": as_list(object.get(st, "Action", [])),
		"conditions": [c |
			some test, by_key in object.get(st, "Condition", {})
			some key, values in by_key
			c := {"test": test, "variable": key, "values": as_list(values)}
		],
	}
}

# Where the mandatory tags must be, as {address, keys, where}: each aws provider block's
# default_tags (source), each planned resource's tags_all (plan).
tag_sets contains {"address": "provider \"aws\"", "keys": keys, "where": "default_tags"} if {
	some p in object.get(object.get(input, "provider", {}), "aws", [])
	keys := {k | some d in blocks(p, "default_tags"); some k, _ in object.get(d, "tags", {})}
}

tag_sets contains {"address": r.address, "keys": {k | some k, _ in r.attrs.tags_all}, "where": "tags_all"} if {
	some r in resources
	is_object(r.attrs.tags_all)
}
