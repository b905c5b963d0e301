output "repository_urls" {
  description = "Repository URLs by name (the chart's image.repository on EKS)."
  value       = { for name, r in aws_ecr_repository.this : name => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by name (the CI push role is limited to these)."
  value       = { for name, r in aws_ecr_repository.this : name => r.arn }
}

output "kms_key_arn" {
  description = "KMS key encrypting the images."
  value       = module.kms.arn
}
