variable "region" {
  description = "AWS region of the environment (and of its state bucket)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "environment" {
  description = "Environment name, used in names and the Environment tag."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters and digits, starting with a letter."
  }
}

variable "state_bucket" {
  description = "The state bucket (backend.hcl `bucket`), read for the other layers' outputs."
  type        = string
  default     = "hello-platform-dev-tfstate"
}

variable "github_repository" {
  description = "GitHub repository (\"owner/name\") whose workflows get the CI roles. Set it in terraform.tfvars."
  type        = string
}

variable "repositories" {
  description = "ECR repositories to create."
  type        = list(string)
  default     = ["hello"]
}
