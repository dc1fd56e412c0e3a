#!/usr/bin/env bash
# Deploys the control plane's stacks into a running LocalStack (docker compose -f localstack/docker-compose.yml up -d).
# Without a paid tier (the pinned Community image, LOCALSTACK_AUTH_TOKEN unset) no ECR repositories are
# created (the default of datakit:packageRepositories is none): packages are registered through
# POST /v1/registrations from an allow-listed registry instead. No cell stacks either (ECS is paid):
# localstack/runs.sh executes the run state machine with its Task states mocked.
# Not exercised on the build machines (no Docker daemon there); see localstack/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
stage="${DATAKIT_STAGE:-local}"
context=(-c "datakit:stage=${stage}")
if [ -n "${LOCALSTACK_AUTH_TOKEN:-}" ] && [ -n "${DATAKIT_PACKAGE_REPOSITORIES:-}" ]; then
  context+=(-c "datakit:packageRepositories=${DATAKIT_PACKAGE_REPOSITORIES}")
fi
# CodePipeline needs a paid tier: without one, only environments without approvals (no pipelines).
if [ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]; then
  context+=(-c 'datakit:environments=[{"name":"dev"}]')
fi

npx --yes aws-cdk-local@3 bootstrap "${context[@]}"
npx --yes aws-cdk-local@3 deploy --all --require-approval never "${context[@]}"
