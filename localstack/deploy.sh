#!/usr/bin/env bash
# Deploys the control plane's stacks into a running LocalStack (docker compose -f localstack/docker-compose.yml up -d).
# Without a paid tier (LOCALSTACK_AUTH_TOKEN unset) the ECR-backed registry pieces are left out: packages
# are registered through POST /v1/registrations from any allow-listed registry instead.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
stage="${DATAKIT_STAGE:-local}"
context=(-c "datakit:stage=${stage}")
if [ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]; then
  echo "LocalStack community edition: deploying without ECR resources"
  context+=(-c "datakit:localstackCommunity=true")
fi

npx --yes aws-cdk-local@3 bootstrap "${context[@]}"
npx --yes aws-cdk-local@3 deploy --all --require-approval never "${context[@]}"
