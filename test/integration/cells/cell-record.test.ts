import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createCellRecordHandler,
  NotACustomResourceRequestError,
} from '../../../lambdas/cell-record/handler.js';
import { unwrittenCellRecordId } from '../../../lib/adapters/cloudformation/cell-record-resource.js';
import {
  CustomResourceResponseError,
  sendCustomResourceResponse,
} from '../../../lib/adapters/cloudformation/custom-resource.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { SingleTable } from '../../../lib/adapters/dynamodb/single-table.js';
import { StackCellRecords } from '../../../lib/adapters/dynamodb/stack-cell-records.js';
import { cellRecordResourceType } from '../../../lib/contracts/cell-resources.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

/** What CloudFormation's pre-signed response URL received. */
interface ReceivedResponse {
  readonly method: string | undefined;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/**
 * CloudFormation's side of the protocol: an HTTP server standing in for the pre-signed S3 URL that
 * records what it is sent, and answers with `status` (200, or an error to exercise the retry path).
 */
class ResponseEndpoint {
  readonly received: ReceivedResponse[] = [];
  status = 200;
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.received.push({
        method: request.method,
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      response.writeHead(this.status).end();
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/cloudformation-response?X-Amz-Signature=abc`;
  }

  last(): ReceivedResponse {
    const last = this.received.at(-1);
    if (last === undefined) throw new Error('no response was sent');
    return last;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}

/** The runtime block as CloudFormation hands it over: every scalar a string. */
const runtime = {
  kind: 'ecs',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-datakit-blue',
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:prod-datakit-blue-runs',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  logGroupName: '/datakit/prod/cells/blue/tasks',
  subnets: ['subnet-0aaa1111bbb22222c', 'subnet-0ddd3333eee44444f'],
  securityGroups: ['sg-0123456789abcdef0'],
  assignPublicIp: 'false',
  cpuArchitecture: 'X86_64',
};

let endpoint: ResponseEndpoint;
let db: TestTable;
let now: Date;
let handler: (event: unknown) => Promise<void>;

function request(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:writer',
    ResponseURL: endpoint.url(),
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/prod-datakit-cell-blue/guid',
    RequestId: randomUUID(),
    LogicalResourceId: 'Record34AF5C7A',
    ResourceType: cellRecordResourceType,
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:writer',
      ...properties,
    },
    ...extra,
  };
}

const blue = { name: 'blue', description: 'Batch runs', labels: { team: 'data' }, runtime };

beforeAll(async () => {
  endpoint = new ResponseEndpoint();
  await endpoint.start();
  db = await startTestTable();
});

afterAll(async () => {
  await endpoint.close();
  await db.close();
});

beforeEach(async () => {
  endpoint.status = 200;
  now = new Date('2026-11-27T10:00:00.000Z');
  handler = createCellRecordHandler({
    records: new StackCellRecords(db.table, () => now),
    logger: new Logger({ serviceName: 'datakit-test', logLevel: 'SILENT' }),
    send: sendCustomResourceResponse,
  });
  await db.table.batchDelete([keys.cell('blue'), keys.cell('azure')]);
});

describe('the cell record custom resource', () => {
  it('writes the record on create and answers CloudFormation with the cell name as physical id', async () => {
    const event = request('Create', blue);

    await handler(event);

    expect(await db.table.get(keys.cell('blue'))).toEqual({
      PK: 'CELL#blue',
      SK: '#CELL',
      GSI1PK: 'CELLS',
      GSI1SK: 'blue',
      name: 'blue',
      origin: 'stack',
      description: 'Batch runs',
      labels: { team: 'data' },
      runtime: { ...runtime, assignPublicIp: false },
      createdAt: '2026-11-27T10:00:00.000Z',
      updatedAt: '2026-11-27T10:00:00.000Z',
      revision: 1,
    });
    expect(endpoint.last()).toEqual({
      method: 'PUT',
      contentType: '',
      body: {
        Status: 'SUCCESS',
        PhysicalResourceId: 'blue',
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
      },
    });
  });

  it('lists the cell under GSI1 CELLS, as GET /v1/cells queries it', async () => {
    await handler(request('Create', blue));

    const page = await db.table.query({ index: 'GSI1', partition: keys.cellsIndex.pk });

    expect(page.items.map((item) => item.name)).toEqual(['blue']);
  });

  it('on update replaces the runtime but keeps the description and labels the API changed', async () => {
    await handler(request('Create', blue));
    await db.table.update(keys.cell('blue'), { set: { description: 'Edited', labels: { team: 'ml' } } });
    now = new Date('2026-11-28T08:00:00.000Z');
    const moved = { ...runtime, subnets: ['subnet-0fff5555aaa66666b'], assignPublicIp: 'true' };

    await handler(
      request(
        'Update',
        { ...blue, runtime: moved },
        { PhysicalResourceId: 'blue', OldResourceProperties: blue },
      ),
    );

    expect(await db.table.get(keys.cell('blue'))).toMatchObject({
      description: 'Edited',
      labels: { team: 'ml' },
      runtime: { subnets: ['subnet-0fff5555aaa66666b'], assignPublicIp: true },
      createdAt: '2026-11-27T10:00:00.000Z',
      updatedAt: '2026-11-28T08:00:00.000Z',
      revision: 2,
    });
    expect(endpoint.last().body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'blue' });
  });

  it('deletes the record on delete, and a repeated delete still succeeds', async () => {
    await handler(request('Create', blue));
    const deletion = request('Delete', blue, { PhysicalResourceId: 'blue' });

    await handler(deletion);
    await handler(deletion);

    expect(await db.table.get(keys.cell('blue'))).toBeUndefined();
    expect(endpoint.received.slice(-2).map((response) => response.body.Status)).toEqual([
      'SUCCESS',
      'SUCCESS',
    ]);
  });

  it('renames as a replacement: the new name is written and answered as the new physical id', async () => {
    await handler(request('Create', blue));

    await handler(
      request(
        'Update',
        { ...blue, name: 'azure' },
        { PhysicalResourceId: 'blue', OldResourceProperties: blue },
      ),
    );
    expect(endpoint.last().body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'azure' });
    // CloudFormation then deletes the old physical id.
    await handler(request('Delete', blue, { PhysicalResourceId: 'blue' }));

    expect(await db.table.get(keys.cell('blue'))).toBeUndefined();
    expect(await db.table.get(keys.cell('azure'))).toMatchObject({ name: 'azure', revision: 1 });
  });

  it('refuses invalid properties naming the field, writes nothing, and its rollback deletes nothing', async () => {
    await handler(request('Create', { ...blue, runtime: { ...runtime, clusterArn: '' } }));

    expect(endpoint.last().body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: unwrittenCellRecordId,
      Reason: expect.stringContaining('runtime.clusterArn'),
    });
    expect(await db.table.get(keys.cell('blue'))).toBeUndefined();

    await handler(request('Delete', blue, { PhysicalResourceId: unwrittenCellRecordId }));
    expect(endpoint.last().body).toMatchObject({ Status: 'SUCCESS' });
  });

  it('keeps the physical id of an update with invalid properties, so the rollback restores the record', async () => {
    await handler(request('Create', blue));

    await handler(
      request(
        'Update',
        { ...blue, name: 'Not A Name' },
        { PhysicalResourceId: 'blue', OldResourceProperties: blue },
      ),
    );

    expect(endpoint.last().body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'blue',
      Reason: expect.stringContaining('name'),
    });
    expect(await db.table.get(keys.cell('blue'))).toMatchObject({ name: 'blue', revision: 1 });
  });

  it('answers FAILED with the cause when the table cannot be written, instead of leaving the stack waiting', async () => {
    const missingTable = createCellRecordHandler({
      records: new StackCellRecords(new SingleTable(db.client, 'no-such-table')),
      logger: new Logger({ serviceName: 'datakit-test', logLevel: 'SILENT' }),
      send: sendCustomResourceResponse,
    });

    await missingTable(request('Create', blue));

    expect(endpoint.last().body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'blue',
      Reason: expect.stringMatching(/^the cell record could not be written: .*(not found|non-existent)/i),
    });
  });

  it('throws when CloudFormation does not take the response, so Lambda retries the request', async () => {
    endpoint.status = 403;

    await expect(handler(request('Create', blue))).rejects.toBeInstanceOf(CustomResourceResponseError);
  });

  it('throws on an event that is not a custom resource request (there is nobody to answer)', async () => {
    await expect(handler({ detail: 'an EventBridge event' })).rejects.toBeInstanceOf(
      NotACustomResourceRequestError,
    );
  });
});
