# Layer 2 of 4: VPC, subnets over var.az_count AZs, NAT, flow logs.
data "aws_availability_zones" "available" {
  state = "available"
}

module "network" {
  source             = "../../../modules/network"
  name               = var.cluster_name
  cluster_name       = var.cluster_name
  azs                = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  single_nat_gateway = var.single_nat_gateway
}
