# Layer 2 of 4: VPC, subnets over var.azs, NAT, flow logs.
module "network" {
  source             = "../../../modules/network"
  name               = var.cluster_name
  cluster_name       = var.cluster_name
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
}
