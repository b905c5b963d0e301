output "backend_config" {
  description = "The values of ../backend.hcl."
  value       = module.state.backend_config
}

output "bucket_arn" {
  description = "ARN of the state bucket."
  value       = module.state.bucket_arn
}

output "kms_key_arn" {
  description = "KMS key of the state."
  value       = module.state.kms_key_arn
}
