output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets, one per AZ in the order of var.azs (nodes and the control plane's ENIs)."
  value       = [for az in var.azs : aws_subnet.private[az].id]
}

output "public_subnet_ids" {
  description = "Public subnets, one per AZ in the order of var.azs (NAT gateways, internet-facing load balancers)."
  value       = [for az in var.azs : aws_subnet.public[az].id]
}

output "nat_gateway_count" {
  description = "How many NAT gateways were created (1 with single_nat_gateway, else one per AZ)."
  value       = length(aws_nat_gateway.this)
}
