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
  # ARN arguments are validated even in a plan: the mocks return ARN-shaped values.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0", latest_version = 1 }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      certificate_authority = [{ data = "Q0EK" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" }] }]
    }
  }
}

variables {
  cluster_name = "hello-dev"
  subnet_ids   = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = !aws_eks_cluster.this.vpc_config[0].endpoint_public_access && aws_eks_cluster.this.vpc_config[0].endpoint_private_access
    error_message = "the API endpoint must be private by default"
  }
  assert {
    condition     = toset(aws_eks_cluster.this.enabled_cluster_log_types) == toset(["api", "audit", "authenticator", "controllerManager", "scheduler"])
    error_message = "every control-plane log type must be enabled"
  }
  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"])
    error_message = "secrets must be KMS-encrypted"
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API"
    error_message = "access entries, not aws-auth"
  }
  assert {
    condition     = alltrue([for lt in aws_launch_template.node : lt.metadata_options[0].http_tokens == "required" && lt.metadata_options[0].http_put_response_hop_limit == 1])
    error_message = "nodes must require IMDSv2 with a hop limit of 1"
  }
}

run "public_endpoint_needs_allowlist" {
  command = plan
  variables {
    endpoint_public_access = true
  }
  expect_failures = [aws_eks_cluster.this]
}

run "rejects_open_allowlist" {
  command = plan
  variables {
    endpoint_public_access = true
    public_access_cidrs    = ["0.0.0.0/0"]
  }
  expect_failures = [var.public_access_cidrs]
}

run "rejects_patch_version" {
  command = plan
  variables {
    kubernetes_version = "1.34.4"
  }
  expect_failures = [var.kubernetes_version]
}
