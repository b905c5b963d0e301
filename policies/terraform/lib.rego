# METADATA
# title: Helpers of the Terraform policies
# description: Constants and small functions both terraform.hcl and terraform.plan use.
package terraform.lib

# Every control-plane log type EKS offers.
eks_log_types := {"api", "audit", "authenticator", "controllerManager", "scheduler"}

# Tag keys every resource carries (the envs set them as the provider's default_tags).
mandatory_tags := {"Project", "Environment", "ManagedBy"}

# Resource types that create IAM users or their long-lived credentials.
iam_user_types := {
	"aws_iam_user", "aws_iam_access_key", "aws_iam_user_login_profile",
	"aws_iam_user_policy", "aws_iam_user_policy_attachment", "aws_iam_user_group_membership",
}

# A value as a list: HCL gives a list for literals and a "${...}" string for expressions.
as_list(v) := v if is_array(v)

as_list(v) := [v] if is_string(v)

as_list(v) := [] if v == null

# An allowlist: a non-empty list of CIDRs without 0.0.0.0/0 (an expression counts as set:
# the variable's own validation, and the plan rules, judge its value).
allowlisted(cidrs) if {
	is_array(cidrs)
	count(cidrs) > 0
	not "0.0.0.0/0" in cidrs
}

allowlisted(cidrs) if {
	is_string(cidrs)
	startswith(cidrs, "${")
}
