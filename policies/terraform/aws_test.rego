# METADATA
# title: Tests of terraform.aws
# description: >-
#   A compliant module (source) and a compliant plan pass; each test breaks one rule in a
#   copy of either, so every rule is shown to judge both inputs.
package terraform.aws_test

import data.terraform.aws

ids(denials) := {d.id | some d in denials}

# ------------------------------------------------------------------ source (hcl2)

eks := {
	"vpc_config": [{"endpoint_private_access": true, "endpoint_public_access": false}],
	"encryption_config": [{"resources": ["secrets"], "provider": [{"key_arn": "${aws_kms_key.eks.arn}"}]}],
	"enabled_cluster_log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}

ecr := {
	"image_tag_mutability": "IMMUTABLE",
	"image_scanning_configuration": [{"scan_on_push": true}],
	"encryption_configuration": [{"encryption_type": "KMS", "kms_key": "${aws_kms_key.ecr.arn}"}],
}

trust := {"statement": [{
	"actions": ["sts:AssumeRoleWithWebIdentity"],
	"condition": [
		{"test": "StringEquals", "variable": "token.actions.githubusercontent.com:aud", "values": ["sts.amazonaws.com"]},
		{"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:o/r:ref:refs/heads/main"]},
	],
}]}

source := {
	"provider": {"aws": [{"default_tags": [{"tags": {"Project": "p", "Environment": "dev", "ManagedBy": "opentofu"}}]}]},
	"resource": {
		"aws_eks_cluster": {"this": [eks]},
		"aws_ecr_repository": {"this": [ecr]},
		"aws_launch_template": {"node": [{"metadata_options": [{"http_tokens": "required"}]}]},
	},
	"data": {"aws_iam_policy_document": {"trust": [trust]}},
}

with_resource(t, body) := object.union(source, {"resource": object.union(source.resource, {t: {"this": [body]}})})

with_statement(st) := object.union(source, {"data": {"aws_iam_policy_document": {"trust": [{"statement": [st]}]}}})

test_compliant_source_passes if {
	count(aws.deny) == 0 with input as source
}

test_source_public_endpoint_without_allowlist_denied if {
	bad := with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [{"endpoint_public_access": true}]}))
	ids(aws.deny) == {"TF001"} with input as bad
}

test_source_public_endpoint_open_to_world_denied if {
	vpc := {"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/0"]}
	ids(aws.deny) == {"TF001"} with input as with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [vpc]}))
}

test_source_public_endpoint_allowlisted_passes if {
	vpc := {"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}
	count(aws.deny) == 0 with input as with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [vpc]}))
	expression := {"endpoint_public_access": true, "public_access_cidrs": "${var.public_access_cidrs}"}
	count(aws.deny) == 0 with input as with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [expression]}))
}

test_source_cluster_without_vpc_config_denied if {
	ids(aws.deny) == {"TF001"} with input as with_resource("aws_eks_cluster", object.remove(eks, ["vpc_config"]))
}

test_source_unencrypted_secrets_denied if {
	ids(aws.deny) == {"TF002"} with input as with_resource("aws_eks_cluster", object.remove(eks, ["encryption_config"]))
	no_key := object.union(eks, {"encryption_config": [{"resources": ["secrets"], "provider": [{}]}]})
	ids(aws.deny) == {"TF002"} with input as with_resource("aws_eks_cluster", no_key)
}

test_source_missing_log_types_denied if {
	body := object.union(eks, {"enabled_cluster_log_types": ["api", "audit"]})
	ids(aws.deny) == {"TF003"} with input as with_resource("aws_eks_cluster", body)
}

test_source_mutable_ecr_denied if {
	ids(aws.deny) == {"TF004"} with input as with_resource("aws_ecr_repository", object.union(ecr, {"image_tag_mutability": "MUTABLE"}))
}

test_source_unscanned_ecr_denied if {
	ids(aws.deny) == {"TF005"} with input as with_resource("aws_ecr_repository", object.remove(ecr, ["image_scanning_configuration"]))
}

test_source_aes_ecr_denied if {
	body := object.union(ecr, {"encryption_configuration": [{"encryption_type": "AES256"}]})
	ids(aws.deny) == {"TF006"} with input as with_resource("aws_ecr_repository", body)
}

test_source_iam_user_and_key_denied if {
	bad := object.union(source, {"resource": object.union(source.resource, {
		"aws_iam_user": {"ci": [{"name": "ci"}]},
		"aws_iam_access_key": {"ci": [{"user": "${aws_iam_user.ci.name}"}]},
	})})
	count([d | some d in aws.deny; d.id == "TF007"]) == 2 with input as bad
}

test_source_unpinned_sub_denied if {
	st := object.union(trust.statement[0], {"condition": [trust.statement[0].condition[0]]})
	aws.deny == {{"id": "TF008", "msg": "data.aws_iam_policy_document.trust trusts web identities without pinning 'sub' (StringEquals on <issuer>:sub, no wildcards)"}} with input as with_statement(st)
}

test_source_wildcard_sub_denied if {
	cond := [
		trust.statement[0].condition[0],
		{"test": "StringLike", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:o/*"]},
	]
	ids(aws.deny) == {"TF008"} with input as with_statement({"actions": ["sts:AssumeRoleWithWebIdentity"], "condition": cond})
}

test_source_subject_without_repository_denied if {
	cond := [
		trust.statement[0].condition[0],
		{"test": "StringEquals", "variable": "token.actions.githubusercontent.com:sub", "values": ["environment:prod"]},
	]
	ids(aws.deny) == {"TF008"} with input as with_statement({"actions": ["sts:AssumeRoleWithWebIdentity"], "condition": cond})
}

test_source_imdsv1_denied if {
	bad := object.union(source, {"resource": object.union(source.resource, {"aws_launch_template": {"node": [{"metadata_options": [{"http_tokens": "optional"}]}]}})})
	ids(aws.deny) == {"TF009"} with input as bad
}

test_source_missing_tags_denied if {
	bad := object.union(source, {"provider": {"aws": [{"region": "eu-west-1"}]}})
	ids(aws.deny) == {"TF010"} with input as bad
}

# ------------------------------------------------------------------ plan (JSON)

tags := {"Project": "p", "Environment": "dev", "ManagedBy": "opentofu"}

change(type, after) := {
	"address": sprintf("module.x.%s.this", [type]),
	"mode": "managed",
	"type": type,
	"change": {"actions": ["create"], "after": object.union({"tags_all": tags}, after)},
}

planned_eks := {
	"vpc_config": [{"endpoint_public_access": false, "public_access_cidrs": ["0.0.0.0/0"]}],
	"encryption_config": [{"resources": ["secrets"], "provider": [{"key_arn": "arn:aws:kms:eu-west-1:1:key/k"}]}],
	"enabled_cluster_log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}

planned_ecr := {
	"image_tag_mutability": "IMMUTABLE",
	"image_scanning_configuration": [{"scan_on_push": true}],
	"encryption_configuration": [{"encryption_type": "KMS"}],
}

role_trust(condition) := json.marshal({"Statement": [{
	"Effect": "Allow",
	"Action": "sts:AssumeRoleWithWebIdentity",
	"Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
	"Condition": condition,
}]})

pinned := {"StringEquals": {
	"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
	"token.actions.githubusercontent.com:sub": ["repo:o/r:ref:refs/heads/main"],
}}

plan := {"resource_changes": [
	change("aws_eks_cluster", planned_eks),
	change("aws_ecr_repository", planned_ecr),
	change("aws_iam_role", {"assume_role_policy": role_trust(pinned)}),
	change("aws_launch_template", {"metadata_options": [{"http_tokens": "required"}]}),
]}

plan_of(type, after) := {"resource_changes": [change(type, after)]}

test_compliant_plan_passes if {
	count(aws.deny) == 0 with input as plan
}

test_plan_deleted_resources_ignored if {
	gone := {"address": "aws_iam_user.old", "mode": "managed", "type": "aws_iam_user", "change": {"actions": ["delete"], "after": null}}
	count(aws.deny) == 0 with input as {"resource_changes": [gone]}
}

test_plan_open_public_endpoint_denied if {
	after := object.union(planned_eks, {"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/0"]}]})
	ids(aws.deny) == {"TF001"} with input as plan_of("aws_eks_cluster", after)
}

test_plan_unencrypted_secrets_denied if {
	ids(aws.deny) == {"TF002"} with input as plan_of("aws_eks_cluster", object.union(planned_eks, {"encryption_config": []}))
}

test_plan_key_known_at_apply_passes if {
	rc := change("aws_eks_cluster", object.union(planned_eks, {"encryption_config": [{"resources": ["secrets"], "provider": [{}]}]}))
	pending := object.union(rc, {"change": object.union(rc.change, {"after_unknown": {"encryption_config": [{"provider": [{"key_arn": true}]}]}})})
	count(aws.deny) == 0 with input as {"resource_changes": [pending]}
	ids(aws.deny) == {"TF002"} with input as {"resource_changes": [rc]}
}

test_plan_missing_log_types_denied if {
	ids(aws.deny) == {"TF003"} with input as plan_of("aws_eks_cluster", object.union(planned_eks, {"enabled_cluster_log_types": ["api"]}))
}

test_plan_ecr_mutable_unscanned_aes_denied if {
	after := {
		"image_tag_mutability": "MUTABLE",
		"image_scanning_configuration": [{"scan_on_push": false}],
		"encryption_configuration": [{"encryption_type": "AES256"}],
	}
	ids(aws.deny) == {"TF004", "TF005", "TF006"} with input as plan_of("aws_ecr_repository", after)
}

test_plan_iam_access_key_denied if {
	ids(aws.deny) == {"TF007"} with input as plan_of("aws_iam_access_key", {"user": "ci"})
}

test_plan_trust_without_sub_denied if {
	cond := {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
	ids(aws.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": role_trust(cond)})
}

test_plan_trust_with_wildcard_denied if {
	cond := {"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "repo:o/*",
	}}
	ids(aws.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": role_trust(cond)})
}

test_plan_trust_without_repo_denied if {
	cond := {"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "environment:prod",
	}}
	ids(aws.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": role_trust(cond)})
}

test_plan_imdsv1_denied if {
	ids(aws.deny) == {"TF009"} with input as plan_of("aws_launch_template", {"metadata_options": [{"http_tokens": "optional"}]})
}

test_plan_missing_tags_denied if {
	rc := object.union(object.remove(change("aws_ecr_repository", planned_ecr), ["change"]), {"change": {"actions": ["create"], "after": object.union(planned_ecr, {"tags_all": {"Project": "p"}})}})
	ids(aws.deny) == {"TF010"} with input as {"resource_changes": [rc]}
}
