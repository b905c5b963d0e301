variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold at most 100 letters, digits and '-'."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups, e.g. \"1.34\" (the project's tested minor)."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.(3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version like \"1.34\" (1.30 or newer, no patch number)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the control plane ENIs and the nodes, in at least two AZs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must hold at least two subnets (in different AZs)."
  }
}

variable "endpoint_public_access" {
  description = "Expose the API server publicly as well. Default false: private endpoint only, reached from the VPC (VPN, bastion, CI runners inside)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach a public endpoint (required and never 0.0.0.0/0 when endpoint_public_access is true)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be valid IPv4 CIDRs, and not 0.0.0.0/0 (list your office/VPN egress instead)."
  }
}

variable "node_groups" {
  description = "Managed node groups by name: instance types, capacity type and autoscaling bounds."
  type = map(object({
    instance_types = optional(list(string), ["t3.medium"])
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = optional(number, 1)
    max_size       = optional(number, 3)
    desired_size   = optional(number, 2)
    disk_size_gib  = optional(number, 20)
    labels         = optional(map(string), {})
  }))
  default = { default = {} }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.min_size <= g.desired_size && g.desired_size <= g.max_size && g.max_size >= 1])
    error_message = "every node group needs min_size <= desired_size <= max_size and max_size >= 1."
  }
  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "access_entries" {
  description = "IAM principals granted cluster access (EKS access entries, not aws-auth), each with an access policy name such as AmazonEKSClusterAdminPolicy or AmazonEKSViewPolicy."
  type = map(object({
    principal_arn = string
    policy        = optional(string, "AmazonEKSViewPolicy")
    namespaces    = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for e in values(var.access_entries) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", e.principal_arn))])
    error_message = "access_entries principal_arn must be IAM role ARNs (no IAM users)."
  }
}

variable "cluster_log_retention_days" {
  description = "Days control-plane logs are kept in CloudWatch Logs (a year by default: audit logs serve investigations)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cluster_log_retention_days)
    error_message = "cluster_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "autoscaler_namespace" {
  description = "Namespace of the cluster-autoscaler service account trusted by its IRSA role (installed by GitOps, not here)."
  type        = string
  default     = "kube-system"
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
