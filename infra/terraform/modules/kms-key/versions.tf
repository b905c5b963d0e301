terraform {
  # OpenTofu 1.10 (toolchain.toml pins v1.10.10); Terraform >= 1.10 reads the same code.
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The current major. Modules state a floor within it; envs pin the exact release.
      version = ">= 6.0, < 7.0"
    }
  }
}
