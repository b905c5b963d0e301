mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  repositories = ["hello"]
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_ecr_repository.this["hello"].image_tag_mutability == "IMMUTABLE"
    error_message = "tags must be immutable"
  }
  assert {
    condition     = aws_ecr_repository.this["hello"].image_scanning_configuration[0].scan_on_push
    error_message = "images must be scanned on push"
  }
  assert {
    condition     = aws_ecr_repository.this["hello"].encryption_configuration[0].encryption_type == "KMS"
    error_message = "images must be KMS-encrypted"
  }
  assert {
    condition     = length(aws_ecr_lifecycle_policy.this) == 1
    error_message = "every repository needs a lifecycle policy"
  }
}

run "rejects_uppercase_name" {
  command = plan
  variables {
    repositories = ["Hello"]
  }
  expect_failures = [var.repositories]
}
