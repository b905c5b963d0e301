provider "aws" {
  region = var.region

  # Mandatory tags on every resource (policies/terraform checks they are set).
  default_tags {
    tags = {
      Project     = "hello-platform"
      Environment = var.environment
      ManagedBy   = "opentofu"
      Layer       = basename(path.module)
    }
  }
}
