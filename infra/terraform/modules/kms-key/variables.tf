variable "description" {
  description = "What the key encrypts (shown in the KMS console)."
  type        = string
}

variable "alias" {
  description = "Alias name without the `alias/` prefix (e.g. eks/hello-dev); null for none."
  type        = string
  default     = null

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", coalesce(var.alias, "none"))) && !startswith(coalesce(var.alias, "none"), "aws/")
    error_message = "alias must be letters, digits, '/', '_' and '-', without the alias/ prefix, and not in the reserved aws/ space."
  }
}

variable "deletion_window_days" {
  description = "Days a scheduled deletion of the key waits (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30
    error_message = "deletion_window_days must be between 7 and 30."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs of this region encrypt this account's log groups with the key."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the key (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
