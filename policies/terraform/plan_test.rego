# METADATA
# title: Tests of terraform.plan
# description: A compliant plan passes; each test breaks one rule in a copy of it.
package terraform.plan_test

import data.terraform.plan

tags := {"Project": "p", "Environment": "dev", "ManagedBy": "opentofu"}

change(type, after) := {
	"address": sprintf("module.x.%s.this", [type]),
	"mode": "managed",
	"type": type,
	"change": {"actions": ["create"], "after": object.union({"tags_all": tags}, after)},
}

eks := {
	"vpc_config": [{"endpoint_public_access": false, "public_access_cidrs": ["0.0.0.0/0"]}],
	"encryption_config": [{"resources": ["secrets"], "provider": [{"key_arn": "arn:aws:kms:eu-west-1:1:key/k"}]}],
	"enabled_cluster_log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}

ecr := {
	"image_tag_mutability": "IMMUTABLE",
	"image_scanning_configuration": [{"scan_on_push": true}],
	"encryption_configuration": [{"encryption_type": "KMS"}],
}

trust(condition) := json.marshal({"Statement": [{
	"Effect": "Allow",
	"Action": "sts:AssumeRoleWithWebIdentity",
	"Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
	"Condition": condition,
}]})

pinned := {"StringEquals": {
	"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
	"token.actions.githubusercontent.com:sub": ["repo:o/r:ref:refs/heads/main"],
}}

good := {"resource_changes": [
	change("aws_eks_cluster", eks),
	change("aws_ecr_repository", ecr),
	change("aws_iam_role", {"assume_role_policy": trust(pinned)}),
	change("aws_launch_template", {"metadata_options": [{"http_tokens": "required"}]}),
]}

ids(denials) := {substring(d, 0, 5) | some d in denials}

plan_of(type, after) := {"resource_changes": [change(type, after)]}

test_compliant_plan_passes if {
	count(plan.deny) == 0 with input as good
}

test_deleted_resources_ignored if {
	gone := {"address": "aws_iam_user.old", "mode": "managed", "type": "aws_iam_user", "change": {"actions": ["delete"], "after": null}}
	count(plan.deny) == 0 with input as {"resource_changes": [gone]}
}

test_open_public_endpoint_denied if {
	after := object.union(eks, {"vpc_config": [{"endpoint_public_access": true, "public_access_cidrs": ["0.0.0.0/0"]}]})
	ids(plan.deny) == {"TF001"} with input as plan_of("aws_eks_cluster", after)
}

test_unencrypted_secrets_denied if {
	ids(plan.deny) == {"TF002"} with input as plan_of("aws_eks_cluster", object.union(eks, {"encryption_config": []}))
}

test_missing_log_types_denied if {
	ids(plan.deny) == {"TF003"} with input as plan_of("aws_eks_cluster", object.union(eks, {"enabled_cluster_log_types": ["api"]}))
}

test_ecr_mutable_unscanned_aes_denied if {
	after := {
		"image_tag_mutability": "MUTABLE",
		"image_scanning_configuration": [{"scan_on_push": false}],
		"encryption_configuration": [{"encryption_type": "AES256"}],
	}
	ids(plan.deny) == {"TF004", "TF005", "TF006"} with input as plan_of("aws_ecr_repository", after)
}

test_iam_access_key_denied if {
	ids(plan.deny) == {"TF007"} with input as plan_of("aws_iam_access_key", {"user": "ci"})
}

test_trust_without_sub_denied if {
	cond := {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
	ids(plan.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": trust(cond)})
}

test_trust_with_wildcard_denied if {
	cond := {"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "repo:o/*",
	}}
	ids(plan.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": trust(cond)})
}

test_trust_without_repo_denied if {
	cond := {"StringEquals": {
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "environment:prod",
	}}
	ids(plan.deny) == {"TF008"} with input as plan_of("aws_iam_role", {"assume_role_policy": trust(cond)})
}

test_imdsv1_denied if {
	ids(plan.deny) == {"TF009"} with input as plan_of("aws_launch_template", {"metadata_options": [{"http_tokens": "optional"}]})
}

test_missing_tags_denied if {
	rc := object.union(object.remove(change("aws_ecr_repository", ecr), ["change"]), {"change": {"actions": ["create"], "after": object.union(ecr, {"tags_all": {"Project": "p"}})}})
	bad := {"resource_changes": [rc]}
	ids(plan.deny) == {"TF010"} with input as bad
}
