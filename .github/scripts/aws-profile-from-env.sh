#!/usr/bin/env bash
# Write the short-lived OIDC session that configure-aws-credentials exported into a named
# profile (~/.aws/credentials on the runner), because `nox -s infra` plan/apply/destroy
# take a profile and refuse to run without one. Usage: aws-profile-from-env.sh NAME
set -euo pipefail
profile="${1:?usage: aws-profile-from-env.sh PROFILE}"
: "${AWS_ACCESS_KEY_ID:?no OIDC session: run configure-aws-credentials first}"
umask 077
mkdir -p "$HOME/.aws"
cat >> "$HOME/.aws/credentials" <<INI
[$profile]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
aws_session_token = $AWS_SESSION_TOKEN
region = ${AWS_REGION:-eu-west-1}
INI
echo "profile '$profile' written (expires with the OIDC session)"
