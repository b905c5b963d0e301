# METADATA
# title: OpenTofu/Terraform plan rules (plan JSON)
# description: >-
#   The rules of terraform.hcl over the concrete values of a plan
#   (`tofu show -json PLANFILE`): every resource the plan creates or updates, in any module.
package terraform.plan

import data.terraform.lib

# Resources the plan creates or updates, with their planned values.
changes contains {"address": rc.address, "type": rc.type, "after": rc.change.after} if {
	some rc in input.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
	rc.mode == "managed"
}

# The first element of a list of blocks, or {} when there is none.
first(xs) := xs[0] if count(xs) > 0

first(xs) := {} if count(xs) == 0

# METADATA
# title: EKS endpoint private or allowlisted
# description: A public endpoint has public_access_cidrs without 0.0.0.0/0.
# custom:
#   id: TF001
deny contains msg if {
	some r in changes
	r.type == "aws_eks_cluster"
	vpc := first(object.get(r.after, "vpc_config", []))
	object.get(vpc, "endpoint_public_access", true) != false
	not lib.allowlisted(object.get(vpc, "public_access_cidrs", []))
	msg := sprintf("TF001: %s has a public endpoint open to 0.0.0.0/0 or without an allowlist", [r.address])
}

# METADATA
# title: EKS secrets encrypted with KMS
# description: encryption_config covers "secrets" with a KMS key.
# custom:
#   id: TF002
deny contains msg if {
	some r in changes
	r.type == "aws_eks_cluster"
	not secrets_encrypted(r.after)
	msg := sprintf("TF002: %s must encrypt secrets with KMS (encryption_config)", [r.address])
}

secrets_encrypted(after) if {
	some enc in object.get(after, "encryption_config", [])
	"secrets" in enc.resources
}

# METADATA
# title: Every EKS control-plane log type
# description: enabled_cluster_log_types holds all five types.
# custom:
#   id: TF003
deny contains msg if {
	some r in changes
	r.type == "aws_eks_cluster"
	missing := lib.eks_log_types - {t | some t in object.get(r.after, "enabled_cluster_log_types", [])}
	count(missing) > 0
	msg := sprintf("TF003: %s must enable every control-plane log type; missing: %s", [r.address, concat(", ", sort(missing))])
}

# METADATA
# title: ECR immutable, scanned, KMS-encrypted
# description: aws_ecr_repository is IMMUTABLE, scans on push and uses KMS.
# custom:
#   id: TF004
deny contains msg if {
	some r in changes
	r.type == "aws_ecr_repository"
	object.get(r.after, "image_tag_mutability", "") != "IMMUTABLE"
	msg := sprintf("TF004: %s must set image_tag_mutability = \"IMMUTABLE\"", [r.address])
}

# METADATA
# title: ECR scan on push
# description: aws_ecr_repository scans images on push.
# custom:
#   id: TF005
deny contains msg if {
	some r in changes
	r.type == "aws_ecr_repository"
	first(object.get(r.after, "image_scanning_configuration", [])).scan_on_push != true
	msg := sprintf("TF005: %s must scan images on push", [r.address])
}

# METADATA
# title: ECR encrypted with KMS
# description: aws_ecr_repository uses encryption_type KMS.
# custom:
#   id: TF006
deny contains msg if {
	some r in changes
	r.type == "aws_ecr_repository"
	object.get(first(object.get(r.after, "encryption_configuration", [])), "encryption_type", "AES256") != "KMS"
	msg := sprintf("TF006: %s must be KMS-encrypted", [r.address])
}

# METADATA
# title: No IAM users or access keys
# description: The plan creates no IAM users, access keys or login profiles.
# custom:
#   id: TF007
deny contains msg if {
	some r in changes
	r.type in lib.iam_user_types
	msg := sprintf("TF007: %s: no IAM users or access keys (use roles: SSO for people, OIDC for CI)", [r.address])
}

# METADATA
# title: OIDC trust pinned by sub and aud
# description: >-
#   A role trusting a web identity (sts:AssumeRoleWithWebIdentity) conditions `sub` and `aud`
#   with StringEquals, without wildcards; GitHub subjects name a repository ("repo:...").
# custom:
#   id: TF008
deny contains msg if {
	some r in changes
	r.type == "aws_iam_role"
	some st in statements(r.after)
	"sts:AssumeRoleWithWebIdentity" in lib.as_list(object.get(st, "Action", []))
	some claim in {"sub", "aud"}
	not pinned(st, claim)
	msg := sprintf("TF008: %s trusts web identities without pinning '%s' (StringEquals, no wildcards)", [r.address, claim])
}

deny contains msg if {
	some r in changes
	r.type == "aws_iam_role"
	some st in statements(r.after)
	some key, values in object.get(object.get(st, "Condition", {}), "StringEquals", {})
	key == "token.actions.githubusercontent.com:sub"
	some v in lib.as_list(values)
	not startswith(v, "repo:")
	msg := sprintf("TF008: %s trusts GitHub subject '%s', which names no repository", [r.address, v])
}

statements(after) := lib.as_list(json.unmarshal(after.assume_role_policy).Statement) if {
	is_string(after.assume_role_policy)
}

pinned(st, claim) if {
	some key, values in object.get(object.get(st, "Condition", {}), "StringEquals", {})
	endswith(key, sprintf(":%s", [claim]))
	every v in lib.as_list(values) {
		not contains(v, "*")
	}
}

# METADATA
# title: IMDSv2 required
# description: Launch templates and instances require IMDSv2.
# custom:
#   id: TF009
deny contains msg if {
	some r in changes
	r.type in {"aws_launch_template", "aws_instance"}
	object.get(first(object.get(r.after, "metadata_options", [])), "http_tokens", "optional") != "required"
	msg := sprintf("TF009: %s must require IMDSv2 (metadata_options.http_tokens = \"required\")", [r.address])
}

# METADATA
# title: Mandatory tags
# description: Every taggable resource's tags_all holds the mandatory keys.
# custom:
#   id: TF010
deny contains msg if {
	some r in changes
	is_object(r.after.tags_all)
	missing := lib.mandatory_tags - {k | some k, _ in r.after.tags_all}
	count(missing) > 0
	msg := sprintf("TF010: %s lacks mandatory tags: %s", [r.address, concat(", ", sort(missing))])
}
