output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "API server URL."
  value       = module.eks.cluster_endpoint
}

output "kubeconfig_command" {
  description = "Run this to point kubectl at the cluster."
  value       = module.eks.kubeconfig_command
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster-autoscaler (GitOps installs the autoscaler)."
  value       = module.eks.cluster_autoscaler_role_arn
}

output "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (IRSA)."
  value       = module.eks.oidc_provider_arn
}

output "region" {
  description = "AWS region of the cluster (the GitOps env's add-ons need it)."
  value       = var.region
}

output "vpc_id" {
  description = "VPC of the cluster (the AWS Load Balancer Controller's --aws-vpc-id)."
  value       = data.terraform_remote_state.network.outputs.vpc_id
}
