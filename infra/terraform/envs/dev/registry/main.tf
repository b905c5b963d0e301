# Layer 4 of 4: ECR and the GitHub OIDC roles (push, plan, apply). The state bucket and its
# key are looked up by name (the state layer's outputs would do as well; this keeps the
# bootstrap layer's state out of every other layer's reach).
data "aws_s3_bucket" "state" {
  bucket = var.state_bucket
}

data "aws_kms_alias" "state" {
  name = "alias/${var.state_bucket}"
}

module "ecr" {
  source       = "../../../modules/ecr"
  repositories = var.repositories
}

module "ci" {
  source              = "../../../modules/ci-oidc"
  name                = "hello-${var.environment}"
  github_repository   = var.github_repository
  apply_environment   = var.environment
  ecr_repository_arns = values(module.ecr.repository_arns)
  state_bucket_arn    = data.aws_s3_bucket.state.arn
  state_kms_key_arn   = data.aws_kms_alias.state.target_key_arn
}
