data "aws_region" "current" {}

resource "aws_kms_key" "this" {
  description         = "x"
  enable_key_rotation = true
}

resource "aws_s3_bucket_versioning" "v" {
  bucket = "b"
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_eks_cluster" "c" {
  name     = "c"
  role_arn = "arn:aws:iam::123456789012:role/c"
  vpc_config {
    subnet_ids = []
  }
  dynamic "encryption_config" {
    for_each = [aws_kms_key.this.arn]
    content {
      resources = ["secrets"]
      provider {
        key_arn = encryption_config.value
      }
    }
  }
}

resource "aws_wafv2_web_acl" "absent_from_the_file" {}

output "issuer" {
  value = "${data.aws_region.current.id}: ${aws_eks_cluster.c.identity[0].oidc[0].issuer}"
}
