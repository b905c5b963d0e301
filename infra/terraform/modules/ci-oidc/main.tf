# GitHub Actions authenticates with OIDC: no IAM users, no access keys anywhere. Three roles,
# each trusting only this repository, with `aud` = sts.amazonaws.com and an exact `sub`:
#   push  - ECR push, from the listed refs only (main by default);
#   plan  - read-only, from pull requests of the repository (plan on PRs);
#   apply - from jobs running in the protected GitHub environment only.

locals {
  issuer       = "token.actions.githubusercontent.com"
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.oidc_provider_arn
  repo_sub     = "repo:${var.github_repository}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    push  = [for r in var.push_refs : "${local.repo_sub}:ref:${r}"]
    plan  = ["${local.repo_sub}:pull_request"]
    apply = ["${local.repo_sub}:environment:${var.apply_environment}"]
  }

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = each.value
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = data.aws_iam_policy_document.trust

  name                 = "${var.name}-github-${each.key}"
  assume_role_policy   = each.value.json
  max_session_duration = 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = var.create_oidc_provider || var.oidc_provider_arn != null
      error_message = "set oidc_provider_arn when create_oidc_provider is false."
    }
  }
}

# --------------------------------------------------------------------------- push

resource "aws_iam_role_policy" "push" {
  name = "ecr-push"
  role = aws_iam_role.this["push"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Login", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
      {
        Sid    = "PushToOwnRepositories"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
          "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
        ]
        Resource = var.ecr_repository_arns
      },
    ]
  })
}

# --------------------------------------------------------------------------- plan

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.this["plan"].name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# Plan reads every layer's state and takes (then removes) its lockfile; nothing else.
resource "aws_iam_role_policy" "state" {
  for_each = toset(["plan", "apply"])

  name = "tofu-state"
  role = aws_iam_role.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "List", Effect = "Allow", Action = "s3:ListBucket", Resource = var.state_bucket_arn },
      {
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${var.state_bucket_arn}/*"
      },
      {
        Sid      = each.key == "apply" ? "WriteStateAndLock" : "LockOnly"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = each.key == "apply" ? "${var.state_bucket_arn}/*" : "${var.state_bucket_arn}/*.tflock"
      },
      {
        Sid      = "StateKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource = var.state_kms_key_arn
      },
    ]
  })
}

# -------------------------------------------------------------------------- apply

resource "aws_iam_role_policy_attachment" "apply" {
  for_each   = toset(var.apply_policy_arns)
  role       = aws_iam_role.this["apply"].name
  policy_arn = each.value
}
