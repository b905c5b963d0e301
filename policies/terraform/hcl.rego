# METADATA
# title: OpenTofu/Terraform source rules (HCL)
# description: >-
#   Rules over .tf files as conftest's hcl2 parser reads them (one file per input: blocks
#   are lists, expressions are "${...}" strings). Only literal values can be judged here;
#   the same rules over concrete values are in terraform.plan, for plan JSON.
package terraform.hcl

import data.terraform.lib

# Every `resource "TYPE" "NAME"` block of the file as {type, name, body}.
resources contains {"type": t, "name": n, "body": body} if {
	some t, by_name in object.get(input, "resource", {})
	some n, bodies in by_name
	some body in bodies
}

blocks(body, key) := object.get(body, key, [])

# METADATA
# title: EKS endpoint private or allowlisted
# description: >-
#   An aws_eks_cluster endpoint is public only with an explicit public_access_cidrs
#   allowlist without 0.0.0.0/0.
# custom:
#   id: TF001
deny contains msg if {
	some r in resources
	r.type == "aws_eks_cluster"
	some vpc in blocks(r.body, "vpc_config")
	object.get(vpc, "endpoint_public_access", true) != false
	not lib.allowlisted(object.get(vpc, "public_access_cidrs", null))
	msg := sprintf("TF001: aws_eks_cluster.%s has a public endpoint without a CIDR allowlist (set endpoint_public_access = false, or public_access_cidrs without 0.0.0.0/0)", [r.name])
}

# METADATA
# title: EKS secrets encrypted with KMS
# description: aws_eks_cluster has an encryption_config for "secrets" with a KMS key.
# custom:
#   id: TF002
deny contains msg if {
	some r in resources
	r.type == "aws_eks_cluster"
	not secrets_encrypted(r.body)
	msg := sprintf("TF002: aws_eks_cluster.%s must encrypt secrets with KMS (encryption_config { resources = [\"secrets\"], provider { key_arn = ... } })", [r.name])
}

secrets_encrypted(body) if {
	some enc in blocks(body, "encryption_config")
	"secrets" in enc.resources
	some p in enc.provider
	p.key_arn != ""
}

# METADATA
# title: Every EKS control-plane log type
# description: enabled_cluster_log_types lists api, audit, authenticator, controllerManager, scheduler.
# custom:
#   id: TF003
deny contains msg if {
	some r in resources
	r.type == "aws_eks_cluster"
	missing := lib.eks_log_types - {t | some t in lib.as_list(object.get(r.body, "enabled_cluster_log_types", []))}
	count(missing) > 0
	msg := sprintf("TF003: aws_eks_cluster.%s must enable every control-plane log type (literal list); missing: %s", [r.name, concat(", ", sort(missing))])
}

# METADATA
# title: ECR tags immutable
# description: aws_ecr_repository sets image_tag_mutability = "IMMUTABLE".
# custom:
#   id: TF004
deny contains msg if {
	some r in resources
	r.type == "aws_ecr_repository"
	object.get(r.body, "image_tag_mutability", "MUTABLE") != "IMMUTABLE"
	msg := sprintf("TF004: aws_ecr_repository.%s must set image_tag_mutability = \"IMMUTABLE\"", [r.name])
}

# METADATA
# title: ECR scan on push
# description: aws_ecr_repository scans images on push.
# custom:
#   id: TF005
deny contains msg if {
	some r in resources
	r.type == "aws_ecr_repository"
	not scan_on_push(r.body)
	msg := sprintf("TF005: aws_ecr_repository.%s must scan on push (image_scanning_configuration { scan_on_push = true })", [r.name])
}

scan_on_push(body) if {
	some s in blocks(body, "image_scanning_configuration")
	s.scan_on_push == true
}

# METADATA
# title: ECR encrypted with KMS
# description: aws_ecr_repository uses encryption_type = "KMS".
# custom:
#   id: TF006
deny contains msg if {
	some r in resources
	r.type == "aws_ecr_repository"
	not kms_encrypted(r.body)
	msg := sprintf("TF006: aws_ecr_repository.%s must be KMS-encrypted (encryption_configuration { encryption_type = \"KMS\" })", [r.name])
}

kms_encrypted(body) if {
	some e in blocks(body, "encryption_configuration")
	e.encryption_type == "KMS"
}

# METADATA
# title: No IAM users or access keys
# description: Humans and CI use roles (SSO, OIDC); no aws_iam_user, access keys or login profiles.
# custom:
#   id: TF007
deny contains msg if {
	some r in resources
	r.type in lib.iam_user_types
	msg := sprintf("TF007: %s.%s: no IAM users or access keys (use roles: SSO for people, OIDC for CI)", [r.type, r.name])
}

# METADATA
# title: OIDC trust pinned by sub and aud
# description: >-
#   A policy document allowing sts:AssumeRoleWithWebIdentity conditions both the `sub` and
#   the `aud` claim with StringEquals, and no literal value holds a wildcard.
# custom:
#   id: TF008
deny contains msg if {
	some name, docs in object.get(object.get(input, "data", {}), "aws_iam_policy_document", {})
	some doc in docs
	some st in blocks(doc, "statement")
	"sts:AssumeRoleWithWebIdentity" in lib.as_list(object.get(st, "actions", []))
	some claim in {"sub", "aud"}
	not pinned(st, claim)
	msg := sprintf("TF008: data.aws_iam_policy_document.%s trusts web identities without pinning '%s' (condition { test = \"StringEquals\", variable = \"<issuer>:%s\" }, no wildcards)", [name, claim, claim])
}

pinned(st, claim) if {
	some c in blocks(st, "condition")
	c.test == "StringEquals"
	endswith(c.variable, sprintf(":%s", [claim]))
	not wildcard(c.values)
}

wildcard(values) if {
	some v in lib.as_list(values)
	not startswith(v, "${")
	contains(v, "*")
}

# METADATA
# title: IMDSv2 required
# description: Launch templates and instances require IMDSv2 (metadata_options { http_tokens = "required" }).
# custom:
#   id: TF009
deny contains msg if {
	some r in resources
	r.type in {"aws_launch_template", "aws_instance"}
	not imdsv2(r.body)
	msg := sprintf("TF009: %s.%s must require IMDSv2 (metadata_options { http_tokens = \"required\" })", [r.type, r.name])
}

imdsv2(body) if {
	some m in blocks(body, "metadata_options")
	m.http_tokens == "required"
}

# METADATA
# title: Mandatory tags
# description: Every aws provider block sets default_tags with the mandatory tag keys.
# custom:
#   id: TF010
deny contains msg if {
	some p in object.get(object.get(input, "provider", {}), "aws", [])
	tags := {k | some d in blocks(p, "default_tags"); some k, _ in object.get(d, "tags", {})}
	missing := lib.mandatory_tags - tags
	count(missing) > 0
	msg := sprintf("TF010: provider \"aws\" must set default_tags with %s; missing: %s", [concat(", ", sort(lib.mandatory_tags)), concat(", ", sort(missing))])
}
