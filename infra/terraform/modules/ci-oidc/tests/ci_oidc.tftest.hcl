mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name                = "hello-dev"
  github_repository   = "example/hello-platform"
  ecr_repository_arns = ["arn:aws:ecr:eu-west-1:123456789012:repository/hello"]
  state_bucket_arn    = "arn:aws:s3:::hello-platform-dev-tfstate"
  state_kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "three_roles_pinned_to_repo" {
  command = plan

  assert {
    condition     = length(aws_iam_role.this) == 3
    error_message = "push, plan and apply roles"
  }
  assert {
    condition     = contains(flatten([for c in data.aws_iam_policy_document.trust["push"].statement[0].condition : tolist(c.values) if c.variable == "token.actions.githubusercontent.com:sub"]), "repo:example/hello-platform:ref:refs/heads/main")
    error_message = "the push role must trust main of this repository only"
  }
  assert {
    condition     = contains(flatten([for c in data.aws_iam_policy_document.trust["apply"].statement[0].condition : tolist(c.values) if c.variable == "token.actions.githubusercontent.com:sub"]), "repo:example/hello-platform:environment:dev")
    error_message = "the apply role must trust the protected environment only"
  }
  assert {
    condition     = alltrue([for d in data.aws_iam_policy_document.trust : contains(flatten([for c in d.statement[0].condition : tolist(c.values) if c.variable == "token.actions.githubusercontent.com:aud"]), "sts.amazonaws.com")])
    error_message = "every role must pin aud to sts.amazonaws.com"
  }
}

run "rejects_wildcard_repo" {
  command = plan
  variables {
    github_repository = "example/*"
  }
  expect_failures = [var.github_repository]
}

run "rejects_wildcard_ref" {
  command = plan
  variables {
    push_refs = ["refs/heads/*"]
  }
  expect_failures = [var.push_refs]
}
