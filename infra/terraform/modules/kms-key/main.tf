# One customer-managed KMS key, the shape every module here uses: rotated yearly, a
# deletion window, and a key policy in which the account administers the key (IAM policies
# then grant its use) and, when asked, CloudWatch Logs of this region may use it for log
# groups of this account only (the encryption-context condition AWS documents).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.id

  administer = {
    Sid       = "AccountAdministersKey"
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }
  cloudwatch_logs = {
    Sid       = "CloudWatchLogsUsesKey"
    Effect    = "Allow"
    Principal = { Service = "logs.${local.region}.amazonaws.com" }
    Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    Resource  = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([local.administer], var.allow_cloudwatch_logs ? [local.cloudwatch_logs] : [])
  })
  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count         = var.alias == null ? 0 : 1
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
