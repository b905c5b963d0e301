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

variable "cluster_name" {
  description = "Name of the environment's EKS cluster (subnets are tagged for it)."
  type        = string
  default     = "hello-dev"
}

variable "azs" {
  description = "Availability zones of the subnets, named explicitly (at least 2, in var.region) so the set never shifts under a data source."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b"]

  validation {
    condition     = length(var.azs) >= 2 && alltrue([for az in var.azs : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", az))])
    error_message = "azs must list at least two availability zone names such as eu-west-1a."
  }
}

variable "single_nat_gateway" {
  description = "Cost switch: one NAT gateway instead of one per AZ. True for dev (documented trade-off: one AZ's outage cuts egress)."
  type        = bool
  default     = true
}
