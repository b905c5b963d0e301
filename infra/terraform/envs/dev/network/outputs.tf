output "vpc_id" {
  description = "ID of the VPC (read by the cluster layer)."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (read by the cluster layer)."
  value       = module.network.private_subnet_ids
}

output "public_subnet_ids" {
  description = "Public subnets."
  value       = module.network.public_subnet_ids
}
