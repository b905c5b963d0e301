# Plan-level unit test: no AWS account, the provider is mocked (needs the provider binary
# for its schema, so it runs where hashicorp/aws installs: laptops, GitHub Actions).
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { id = "eu-west-1" }
  }
}

variables {
  description = "test key"
}

run "rotated_and_administered_by_the_account_only" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "the key must rotate and wait 30 days before deletion by default"
  }
  assert {
    condition     = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid] == ["AccountAdministersKey"]
    error_message = "without allow_cloudwatch_logs only the account administers the key"
  }
  assert {
    condition     = length(aws_kms_alias.this) == 0
    error_message = "no alias unless one is asked for"
  }
}

run "cloudwatch_logs_of_this_region_and_account_only" {
  command = plan
  variables {
    allow_cloudwatch_logs = true
    alias                 = "eks/hello-dev"
  }

  assert {
    condition     = jsondecode(aws_kms_key.this.policy).Statement[1].Principal.Service == "logs.eu-west-1.amazonaws.com"
    error_message = "the logs principal is regional"
  }
  assert {
    condition     = jsondecode(aws_kms_key.this.policy).Statement[1].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:*"
    error_message = "the logs statement is limited to this account's log groups"
  }
  assert {
    condition     = aws_kms_alias.this[0].name == "alias/eks/hello-dev"
    error_message = "the alias gets the alias/ prefix"
  }
}

run "rejects_a_short_deletion_window" {
  command = plan
  variables {
    deletion_window_days = 3
  }
  expect_failures = [var.deletion_window_days]
}
