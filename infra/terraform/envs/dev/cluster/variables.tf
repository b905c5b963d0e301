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

variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
  default     = "hello-dev"
}

variable "kubernetes_version" {
  description = "Kubernetes minor of the cluster (the project tests 1.34)."
  type        = string
  default     = "1.34"
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach a public API endpoint; empty (the default) keeps the endpoint private only."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles granted cluster-admin through EKS access entries (e.g. your SSO admin role, the CI apply role)."
  type        = list(string)
  default     = []
}
