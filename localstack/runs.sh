#!/usr/bin/env bash
# Executes the run state machine in a running LocalStack (docker compose -f localstack/docker-compose.yml up -d)
# with its Task states mocked (localstack/sfn-mock-config.json, SFN_MOCK_CONFIG): creates the state machine
# from the document as deployed (localstack/run-mocks.ts definition), starts one execution per test case and
# checks how each ends. Needs the AWS CLI (v2) and Docker; see localstack/README.md for what this shows.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
endpoint="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
sfn() { aws --endpoint-url "$endpoint" stepfunctions "$@"; }
mocks() { npx --no-install tsx localstack/run-mocks.ts "$@"; }

name="$(mocks name --stage "${DATAKIT_STAGE:-local}" --cell "${DATAKIT_CELL:-local}")"
definition="$(mktemp)"
trap 'rm -f "$definition"' EXIT
mocks definition ${RUN_STEPS_FUNCTION_ARN:+--run-steps-arn "$RUN_STEPS_FUNCTION_ARN"} >"$definition"
# IAM is not enforced by LocalStack community: the role only has to be an ARN.
role="arn:aws:iam::000000000000:role/${name}"

arn="$(sfn list-state-machines --query "stateMachines[?name=='${name}'].stateMachineArn | [0]" --output text)"
if [ -z "$arn" ] || [ "$arn" = "None" ]; then
  arn="$(sfn create-state-machine --name "$name" --role-arn "$role" --definition "file://${definition}" \
    --query stateMachineArn --output text)"
else
  sfn update-state-machine --state-machine-arn "$arn" --definition "file://${definition}" >/dev/null
fi
echo "state machine ${arn}"

input="$(mocks input)"
failures=0
while read -r scenario expected; do
  execution="$(sfn start-execution --state-machine-arn "${arn}#${scenario}" --input "$input" \
    --query executionArn --output text)"
  status=RUNNING
  for _ in $(seq 1 60); do
    status="$(sfn describe-execution --execution-arn "$execution" --query status --output text)"
    [ "$status" != RUNNING ] && break
    sleep 1
  done
  if [ "$status" = "$expected" ]; then
    echo "ok   ${scenario}: ${status}"
  else
    echo "FAIL ${scenario}: ${status}, expected ${expected}; history:"
    sfn get-execution-history --execution-arn "$execution" --output json
    failures=$((failures + 1))
  fi
done < <(mocks scenarios)
exit "$failures"
