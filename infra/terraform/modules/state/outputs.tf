output "bucket_name" {
  description = "The state bucket: `bucket` of every layer's backend configuration."
  value       = aws_s3_bucket.state.id
}

output "bucket_arn" {
  description = "ARN of the state bucket (for the CI roles' policies)."
  value       = aws_s3_bucket.state.arn
}

output "kms_key_arn" {
  description = "The KMS key encrypting the state: `kms_key_id` of the backends."
  value       = module.kms.arn
}

output "backend_config" {
  description = "The settings to put in envs/<env>/backend.hcl."
  value = {
    bucket       = aws_s3_bucket.state.id
    region       = aws_s3_bucket.state.region
    encrypt      = true
    kms_key_id   = module.kms.arn
    use_lockfile = true
  }
}
