# The S3 backend settings every layer of envs/dev shares (`tofu init -backend-config=../backend.hcl`);
# each layer's versions.tf sets only its own `key`. Native S3 locking (`use_lockfile`: a
# conditional-write <key>.tflock object; no DynamoDB table), state encrypted with the state
# layer's KMS key, which also enforces SSE-KMS through the bucket policy.
bucket       = "hello-platform-dev-tfstate"
region       = "eu-west-1"
encrypt      = true
kms_key_id   = "alias/hello-platform-dev-tfstate"
use_lockfile = true
