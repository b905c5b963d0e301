output "ecr_repository_urls" {
  description = "ECR URLs by repository (the chart's image.repository on EKS)."
  value       = module.ecr.repository_urls
}

output "push_role_arn" {
  description = "Role for the image push workflow (secrets-free: OIDC)."
  value       = module.ci.push_role_arn
}

output "plan_role_arn" {
  description = "Read-only role for `tofu plan` on pull requests."
  value       = module.ci.plan_role_arn
}

output "apply_role_arn" {
  description = "Role for `tofu apply` in the protected environment."
  value       = module.ci.apply_role_arn
}
