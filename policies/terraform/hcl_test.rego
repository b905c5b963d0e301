# METADATA
# title: Tests of terraform.hcl
# description: A compliant module passes; each test breaks one rule in a copy of it.
package terraform.hcl_test

import data.terraform.hcl

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

good := {
	"provider": {"aws": [{"default_tags": [{"tags": {"Project": "p", "Environment": "dev", "ManagedBy": "opentofu"}}]}]},
	"resource": {
		"aws_eks_cluster": {"this": [eks]},
		"aws_ecr_repository": {"this": [ecr]},
		"aws_launch_template": {"node": [{"metadata_options": [{"http_tokens": "required"}]}]},
	},
	"data": {"aws_iam_policy_document": {"trust": [trust]}},
}

ids(denials) := {substring(d, 0, 5) | some d in denials}

with_resource(t, body) := object.union(good, {"resource": object.union(good.resource, {t: {"this": [body]}})})

test_compliant_module_passes if {
	count(hcl.deny) == 0 with input as good
}

test_public_endpoint_without_allowlist_denied if {
	bad := with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [{"endpoint_public_access": true}]}))
	ids(hcl.deny) == {"TF001"} with input as bad
}

test_public_endpoint_open_to_world_denied if {
	vpc := {"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/0"]}
	ids(hcl.deny) == {"TF001"} with input as with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [vpc]}))
}

test_public_endpoint_allowlisted_passes if {
	vpc := {"endpoint_public_access": true, "public_access_cidrs": ["203.0.113.0/24"]}
	count(hcl.deny) == 0 with input as with_resource("aws_eks_cluster", object.union(eks, {"vpc_config": [vpc]}))
}

test_unencrypted_secrets_denied if {
	ids(hcl.deny) == {"TF002"} with input as with_resource("aws_eks_cluster", object.remove(eks, ["encryption_config"]))
}

test_missing_log_types_denied if {
	body := object.union(eks, {"enabled_cluster_log_types": ["api", "audit"]})
	ids(hcl.deny) == {"TF003"} with input as with_resource("aws_eks_cluster", body)
}

test_mutable_ecr_denied if {
	ids(hcl.deny) == {"TF004"} with input as with_resource("aws_ecr_repository", object.union(ecr, {"image_tag_mutability": "MUTABLE"}))
}

test_unscanned_ecr_denied if {
	ids(hcl.deny) == {"TF005"} with input as with_resource("aws_ecr_repository", object.remove(ecr, ["image_scanning_configuration"]))
}

test_aes_ecr_denied if {
	body := object.union(ecr, {"encryption_configuration": [{"encryption_type": "AES256"}]})
	ids(hcl.deny) == {"TF006"} with input as with_resource("aws_ecr_repository", body)
}

test_iam_user_and_key_denied if {
	bad := object.union(good, {"resource": object.union(good.resource, {
		"aws_iam_user": {"ci": [{"name": "ci"}]},
		"aws_iam_access_key": {"ci": [{"user": "${aws_iam_user.ci.name}"}]},
	})})
	count([d | some d in hcl.deny; startswith(d, "TF007")]) == 2 with input as bad
}

test_unpinned_sub_denied if {
	st := object.union(trust.statement[0], {"condition": [trust.statement[0].condition[0]]})
	bad := object.union(good, {"data": {"aws_iam_policy_document": {"trust": [{"statement": [st]}]}}})
	hcl.deny == {"TF008: data.aws_iam_policy_document.trust trusts web identities without pinning 'sub' (condition { test = \"StringEquals\", variable = \"<issuer>:sub\" }, no wildcards)"} with input as bad
}

test_wildcard_sub_denied if {
	cond := [
		trust.statement[0].condition[0],
		{"test": "StringLike", "variable": "token.actions.githubusercontent.com:sub", "values": ["repo:o/*"]},
	]
	bad := object.union(good, {"data": {"aws_iam_policy_document": {"trust": [{"statement": [{"actions": ["sts:AssumeRoleWithWebIdentity"], "condition": cond}]}]}}})
	ids(hcl.deny) == {"TF008"} with input as bad
}

test_imdsv1_denied if {
	bad := object.union(good, {"resource": object.union(good.resource, {"aws_launch_template": {"node": [{"metadata_options": [{"http_tokens": "optional"}]}]}})})
	ids(hcl.deny) == {"TF009"} with input as bad
}

test_missing_tags_denied if {
	bad := object.union(good, {"provider": {"aws": [{"region": "eu-west-1"}]}})
	ids(hcl.deny) == {"TF010"} with input as bad
}
