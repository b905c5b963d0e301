variable "name" {
  description = "Name prefix of every resource (the environment's cluster name is a good choice)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and '-', starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (a private range, /16 to /24)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be a valid IPv4 CIDR with a prefix between /16 and /24, e.g. 10.0.0.0/16."
  }
}

variable "azs" {
  description = "Availability zones to spread the subnets over (at least 2: EKS requires subnets in two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6 && length(distinct(var.azs)) == length(var.azs)
    error_message = "azs must list 2 to 6 distinct availability zones."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for each subnet (4 on a /16 gives /20 subnets: 4091 addresses each, room for pod IPs)."
  type        = number
  default     = 4

  validation {
    condition     = var.subnet_newbits >= 2 && var.subnet_newbits <= 8
    error_message = "subnet_newbits must be between 2 and 8."
  }
}

variable "single_nat_gateway" {
  description = "Cost switch: one NAT gateway for all AZs (cheaper, but an AZ outage cuts egress for all). Default false: one NAT per AZ."
  type        = bool
  default     = false
}

variable "flow_logs_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs (a year by default)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "cluster_name" {
  description = "EKS cluster the subnets are tagged for (kubernetes.io/cluster/<name>), so load balancers find them."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
