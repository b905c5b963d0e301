# Partial configuration: the shared settings come from ../backend.hcl; this layer sets its key.
terraform {
  backend "s3" {
    key = "dev/network.tfstate"
  }
}
