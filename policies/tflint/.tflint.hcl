# TFLint core with its bundled `terraform` ruleset (the AWS ruleset is a separate plugin
# download, not obtainable on our machines; checkov and policies/terraform cover AWS).
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
