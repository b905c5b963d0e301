terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Exact pin of the current major's release this code was written against; bump it
      # with the lock file (.terraform.lock.hcl, committed after the first init where the
      # registry is reachable: laptops, GitHub Actions).
      version = "6.32.1"
    }
  }

  # Partial configuration: the shared settings come from ../backend.hcl.
  backend "s3" {
    key = "dev/registry.tfstate"
  }
}
