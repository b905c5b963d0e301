variable "repositories" {
  description = "ECR repository names to create (e.g. [\"hello\"])."
  type        = list(string)

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r))])
    error_message = "repositories must be lowercase ECR names (letters, digits, '.', '_', '-', '/' between parts)."
  }
}

variable "keep_tagged_images" {
  description = "How many tagged images each repository keeps (older ones expire)."
  type        = number
  default     = 50

  validation {
    condition     = var.keep_tagged_images >= 1
    error_message = "keep_tagged_images must be at least 1."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (superseded layers, failed pushes) expire."
  type        = number
  default     = 7
}

variable "force_delete" {
  description = "Let `destroy` delete repositories that still hold images. Off by default."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
