# Layer 1 of 4: the state bucket itself. Bootstrap (the bucket its own backend needs does
# not exist yet): `nox -s infra -- apply --layer state --bootstrap` applies with a local
# backend, then migrates this layer's state into the bucket it just created.
module "state" {
  source      = "../../../modules/state"
  bucket_name = var.bucket_name
}
