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

variable "az_count" {
  description = "How many of the region's availability zones to use (2 or more)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "single_nat_gateway" {
  description = "Cost switch: one NAT gateway instead of one per AZ. True for dev (documented trade-off: one AZ's outage cuts egress)."
  type        = bool
  default     = true
}
