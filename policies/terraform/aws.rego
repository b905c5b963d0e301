# METADATA
# title: OpenTofu/Terraform rules for AWS
# description: >-
#   Each rule is written once over the view of terraform.lib, so it judges .tf files
#   (conftest --parser hcl2) and plan JSON (`tofu show -json`) alike. In source only
#   literal values can be judged ("${...}" expressions count as set); the plan has the values.
#   checkov's stock checks judge the controls of TF001-TF006 and TF009 too (CKV_AWS_38,
#   CKV_AWS_58, CKV_AWS_37, CKV_AWS_51, CKV_AWS_163, CKV_AWS_136, CKV_AWS_79; a unit test keeps
#   them out of the skips of policies/checkov). The rules stay here as well: `nox -s infra`
#   runs them where checkov does not (its provider-free checks), over plans and source alike.
package terraform.aws

import data.terraform.lib

# METADATA
# title: EKS endpoint private or allowlisted
# description: >-
#   An aws_eks_cluster endpoint is public only with an explicit public_access_cidrs
#   allowlist without 0.0.0.0/0. A cluster without vpc_config has AWS's default: public.
# custom:
#   id: TF001
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_eks_cluster"
	some vpc in vpc_configs(r.attrs)
	object.get(vpc, "endpoint_public_access", true) != false
	not lib.allowlisted(object.get(vpc, "public_access_cidrs", null))
	msg := sprintf("%s has a public endpoint without a CIDR allowlist (set endpoint_public_access = false, or public_access_cidrs without 0.0.0.0/0)", [r.address])
}

vpc_configs(attrs) := configs if {
	configs := lib.blocks(attrs, "vpc_config")
	count(configs) > 0
} else := [{}]

# METADATA
# title: EKS secrets encrypted with KMS
# description: aws_eks_cluster has an encryption_config for "secrets" with a KMS key.
# custom:
#   id: TF002
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_eks_cluster"
	not secrets_encrypted(r)
	msg := sprintf("%s must encrypt secrets with KMS (encryption_config { resources = [\"secrets\"], provider { key_arn = ... } })", [r.address])
}

secrets_encrypted(r) if {
	some i, enc in lib.blocks(r.attrs, "encryption_config")
	"secrets" in enc.resources
	some j, _ in enc.provider
	lib.set(r, ["encryption_config", i, "provider", j, "key_arn"])
}

# METADATA
# title: Every EKS control-plane log type
# description: enabled_cluster_log_types lists api, audit, authenticator, controllerManager, scheduler.
# custom:
#   id: TF003
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_eks_cluster"
	enabled := {t | some t in lib.as_list(object.get(r.attrs, "enabled_cluster_log_types", []))}
	missing := lib.eks_log_types - enabled
	count(missing) > 0
	msg := sprintf("%s must enable every control-plane log type (a literal list in source); missing: %s", [r.address, concat(", ", sort(missing))])
}

# METADATA
# title: ECR tags immutable
# description: aws_ecr_repository sets image_tag_mutability = "IMMUTABLE".
# custom:
#   id: TF004
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_ecr_repository"
	object.get(r.attrs, "image_tag_mutability", "MUTABLE") != "IMMUTABLE"
	msg := sprintf("%s must set image_tag_mutability = \"IMMUTABLE\"", [r.address])
}

# METADATA
# title: ECR scan on push
# description: aws_ecr_repository scans images on push.
# custom:
#   id: TF005
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_ecr_repository"
	not scan_on_push(r.attrs)
	msg := sprintf("%s must scan on push (image_scanning_configuration { scan_on_push = true })", [r.address])
}

scan_on_push(attrs) if {
	some s in lib.blocks(attrs, "image_scanning_configuration")
	s.scan_on_push == true
}

# METADATA
# title: ECR encrypted with KMS
# description: aws_ecr_repository uses encryption_type = "KMS".
# custom:
#   id: TF006
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type == "aws_ecr_repository"
	not kms_encrypted(r.attrs)
	msg := sprintf("%s must be KMS-encrypted (encryption_configuration { encryption_type = \"KMS\" })", [r.address])
}

kms_encrypted(attrs) if {
	some e in lib.blocks(attrs, "encryption_configuration")
	e.encryption_type == "KMS"
}

# METADATA
# title: No IAM users or access keys
# description: Humans and CI use roles (SSO, OIDC); no aws_iam_user, access keys or login profiles.
# custom:
#   id: TF007
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type in lib.iam_user_types
	msg := sprintf("%s: no IAM users or access keys (use roles: SSO for people, OIDC for CI)", [r.address])
}

# METADATA
# title: OIDC trust pinned by sub and aud
# description: >-
#   A trust statement allowing sts:AssumeRoleWithWebIdentity conditions both the `sub` and
#   the `aud` claim with StringEquals, and no literal value holds a wildcard.
# custom:
#   id: TF008
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some st in lib.trust_statements
	"sts:AssumeRoleWithWebIdentity" in st.actions
	some claim in ["sub", "aud"]
	not pinned(st, claim)
	msg := sprintf("%s trusts web identities without pinning '%s' (StringEquals on <issuer>:%s, no wildcards)", [st.address, claim, claim])
}

pinned(st, claim) if {
	some c in st.conditions
	c.test == "StringEquals"
	endswith(c.variable, sprintf(":%s", [claim]))
	every v in c.values {
		not contains(v, "*")
	}
}

# METADATA
# title: GitHub OIDC subjects name a repository
# description: >-
#   A StringEquals condition on GitHub's `sub` claim names a repository ("repo:..."), not
#   only an environment or a workflow that any repository could claim.
# custom:
#   id: TF008
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some st in lib.trust_statements
	some c in st.conditions
	c.test == "StringEquals"
	c.variable == "token.actions.githubusercontent.com:sub"
	some v in c.values
	not startswith(v, "repo:")
	msg := sprintf("%s trusts GitHub subject '%s', which names no repository", [st.address, v])
}

# METADATA
# title: IMDSv2 required
# description: Launch templates and instances require IMDSv2 (metadata_options { http_tokens = "required" }).
# custom:
#   id: TF009
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some r in lib.resources
	r.type in {"aws_launch_template", "aws_instance"}
	not imdsv2(r.attrs)
	msg := sprintf("%s must require IMDSv2 (metadata_options { http_tokens = \"required\" })", [r.address])
}

imdsv2(attrs) if {
	some m in lib.blocks(attrs, "metadata_options")
	m.http_tokens == "required"
}

# METADATA
# title: Mandatory tags
# description: >-
#   Every aws provider block sets default_tags with the mandatory keys (source); every
#   planned resource's tags_all holds them (plan).
# custom:
#   id: TF010
deny contains {"id": rego.metadata.rule().custom.id, "msg": msg} if {
	some t in lib.tag_sets
	missing := lib.mandatory_tags - t.keys
	count(missing) > 0
	msg := sprintf("%s lacks mandatory tags in %s: %s (the aws provider's default_tags set them)", [t.address, t.where, concat(", ", sort(missing))])
}
