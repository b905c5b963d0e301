variable "name" {
  description = "Name prefix of the roles (e.g. \"hello-dev\")."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,40}$", var.name))
    error_message = "name must start with a letter and hold 2-41 letters, digits and '-'."
  }
}

variable "github_repository" {
  description = "The GitHub repository (\"owner/name\") whose workflows may assume the roles; the trust is pinned to it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository)) && !strcontains(var.github_repository, "*")
    error_message = "github_repository must be \"owner/name\", without wildcards."
  }
}

variable "push_refs" {
  description = "Git refs allowed to push images to ECR (the `sub` claim's ref part)."
  type        = list(string)
  default     = ["refs/heads/main"]

  validation {
    condition     = length(var.push_refs) > 0 && alltrue([for r in var.push_refs : startswith(r, "refs/") && !strcontains(r, "*")])
    error_message = "push_refs must be full refs like refs/heads/main, without wildcards."
  }
}

variable "apply_environment" {
  description = "GitHub environment (with its protection rules) whose jobs may assume the apply role."
  type        = string
  default     = "dev"
}

variable "ecr_repository_arns" {
  description = "ECR repositories the push role may write to."
  type        = list(string)
}

variable "state_bucket_arn" {
  description = "The state bucket: the plan role reads it and takes the lockfile, the apply role writes it."
  type        = string
}

variable "state_kms_key_arn" {
  description = "The KMS key of the state bucket."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (there is one per account: set false and pass oidc_provider_arn when it already exists)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of an existing token.actions.githubusercontent.com provider, when create_oidc_provider is false."
  type        = string
  default     = null
}

variable "apply_policy_arns" {
  description = "Managed policies of the apply role (it creates the VPC, EKS, IAM roles, ECR). Narrow it for production."
  type        = list(string)
  default     = ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
