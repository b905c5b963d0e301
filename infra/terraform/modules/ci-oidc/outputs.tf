output "push_role_arn" {
  description = "Role the image workflow assumes to push to ECR (from push_refs only)."
  value       = aws_iam_role.this["push"].arn
}

output "plan_role_arn" {
  description = "Read-only role the infra workflow assumes for `tofu plan` on pull requests."
  value       = aws_iam_role.this["plan"].arn
}

output "apply_role_arn" {
  description = "Role the infra workflow assumes for `tofu apply`, only in the protected environment."
  value       = aws_iam_role.this["apply"].arn
}

output "oidc_provider_arn" {
  description = "The GitHub OIDC provider the roles trust."
  value       = local.provider_arn
}
