import { describe, expect, it } from 'vitest';
import {
  cellRecordPropertiesSchema,
  cellSecretNamePrefix,
  stageSecretNamePrefix,
  storeSecretName,
  taskDefinitionFamilyPrefix,
} from '../../../lib/contracts/cell-resources.js';

describe('cell resource names', () => {
  it('names a Store secret datakit/{stage}/{cell}/{store}, under its cell prefix', () => {
    const name = storeSecretName('prod', 'blue', 'warehouse');

    expect(name).toBe('datakit/prod/blue/warehouse');
    expect(name.startsWith(cellSecretNamePrefix('prod', 'blue'))).toBe(true);
    expect(name).toBe(`${stageSecretNamePrefix('prod')}/blue/warehouse`);
  });

  it("keeps one cell's secret prefix from covering a cell whose name extends it", () => {
    expect(
      storeSecretName('prod', 'blue-2', 'warehouse').startsWith(cellSecretNamePrefix('prod', 'blue')),
    ).toBe(false);
    expect(storeSecretName('dev', 'blue', 'warehouse').startsWith(cellSecretNamePrefix('prod', 'blue'))).toBe(
      false,
    );
  });

  it('prefixes the task-definition families of a cell with datakit-{cell}-', () => {
    expect(taskDefinitionFamilyPrefix('blue')).toBe('datakit-blue-');
  });
});

describe('cell record properties', () => {
  const runtime = {
    kind: 'ecs',
    clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-datakit-blue',
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:prod-datakit-blue-runs',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    logGroupName: '/datakit/prod/cells/blue/tasks',
    subnets: ['subnet-0aaa1111bbb22222c'],
    securityGroups: ['sg-0123456789abcdef0'],
  };

  it.each([
    ['true', true],
    ['false', false],
    [true, true],
  ])('reads assignPublicIp %j (CloudFormation sends strings) as %j', (value, expected) => {
    const parsed = cellRecordPropertiesSchema.parse({
      name: 'blue',
      runtime: { ...runtime, assignPublicIp: value },
    });

    expect(parsed.runtime.assignPublicIp).toBe(expected);
    expect(parsed.labels).toEqual({});
  });

  it('refuses any other assignPublicIp', () => {
    expect(
      cellRecordPropertiesSchema.safeParse({ name: 'blue', runtime: { ...runtime, assignPublicIp: 'yes' } })
        .success,
    ).toBe(false);
  });
});
