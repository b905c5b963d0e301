# Layer 3 of 4: EKS, reading the network layer's outputs from its state.
data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "${var.environment}/network.tfstate"
    region = var.region
  }
}

module "eks" {
  source                 = "../../../modules/eks"
  cluster_name           = var.cluster_name
  kubernetes_version     = var.kubernetes_version
  subnet_ids             = data.terraform_remote_state.network.outputs.private_subnet_ids
  endpoint_public_access = length(var.public_access_cidrs) > 0
  public_access_cidrs    = var.public_access_cidrs
  node_groups = {
    default = { instance_types = ["t3.medium"], min_size = 1, desired_size = 2, max_size = 4 }
  }
  access_entries = {
    for i, arn in var.admin_role_arns : "admin-${i}" => {
      principal_arn = arn
      policy        = "AmazonEKSClusterAdminPolicy"
    }
  }
}
