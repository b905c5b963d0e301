# Bad input on purpose: every rule of policies/terraform (TF001-TF010) fires here, and
# tflint's terraform ruleset finds the undocumented, untyped variable. Never applied.
provider "aws" {
  region = "eu-west-1"
}

variable "unused" {}

resource "aws_eks_cluster" "bad" {
  name     = "bad"
  role_arn = "arn:aws:iam::123456789012:role/bad"

  enabled_cluster_log_types = ["api"]

  vpc_config {
    subnet_ids             = ["subnet-1", "subnet-2"]
    endpoint_public_access = true
    public_access_cidrs    = ["0.0.0.0/0"]
  }
}

resource "aws_ecr_repository" "bad" {
  name                 = "bad"
  image_tag_mutability = "MUTABLE"
}

resource "aws_iam_user" "ci" {
  name = "ci"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:example/*"]
    }
  }
}

resource "aws_launch_template" "bad" {
  name_prefix = "bad-"
  metadata_options {
    http_tokens = "optional"
  }
}
