import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { storeSecretName } from '../../contracts/cell-resources.js';
import { SecretMissingError, type SecretStore, type StoreSecretRef } from '../../ports/secret-store.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-secrets-manager');

const secretValuesSchema = z.record(z.string(), z.unknown());

/**
 * Store secrets in Secrets Manager (ADR 0006): one secret per cell and Store, a JSON object keyed by
 * `${VAR}` name that the operator fills; derived values (a DSN holding a password) are written under
 * their own key of the same secret and reach the task as `<arn>:<key>::`.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    /** The stage: secrets are `datakit/{stage}/{cell}/{store}` (the cell stack grants exactly these). */
    private readonly stage: string,
  ) {}

  async ensureStoreSecret(ref: StoreSecretRef): Promise<string | undefined> {
    const name = storeSecretName(this.stage, ref.cell, ref.store);
    const { CreateSecretCommand, DescribeSecretCommand, ResourceExistsException } = await sdk();
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: name,
          Description: `DataKit store ${ref.store} of cell ${ref.cell}: a JSON object of its \${VAR} values`,
          SecretString: '{}',
          Tags: [
            { Key: 'datakit:cell', Value: ref.cell },
            { Key: 'datakit:store', Value: ref.store },
          ],
        }),
      );
      return created.ARN;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const described = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
      return described.ARN;
    }
  }

  private async values(ref: StoreSecretRef): Promise<Record<string, unknown>> {
    const id = ref.secretArn ?? storeSecretName(this.stage, ref.cell, ref.store);
    const { GetSecretValueCommand, ResourceNotFoundException } = await sdk();
    try {
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      const parsed = secretValuesSchema.safeParse(JSON.parse(output.SecretString ?? '{}'));
      return parsed.success ? parsed.data : {};
    } catch (error) {
      if (error instanceof ResourceNotFoundException || error instanceof SyntaxError) return {};
      throw error;
    }
  }

  async resolve(ref: StoreSecretRef, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const stored = await this.values(ref);
    const values = new Map<string, string>();
    const missing: string[] = [];
    for (const name of names) {
      const value = stored[name];
      if (typeof value === 'string') values.set(name, value);
      else missing.push(name);
    }
    if (missing.length > 0) throw new SecretMissingError(ref, missing);
    return values;
  }

  async putDerived(ref: StoreSecretRef, key: string, value: string): Promise<string> {
    const id = ref.secretArn ?? storeSecretName(this.stage, ref.cell, ref.store);
    const stored = await this.values(ref);
    if (stored[key] !== value) {
      const { PutSecretValueCommand } = await sdk();
      await this.client.send(
        new PutSecretValueCommand({
          SecretId: id,
          SecretString: JSON.stringify({ ...stored, [key]: value }),
        }),
      );
    }
    return `${id}:${key}::`;
  }
}
