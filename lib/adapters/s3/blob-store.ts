import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../ports/blob-store.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-s3');

/** The blob store in AWS: one S3 object per key in the raw-events bucket (SSE by the bucket's default). */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: Pick<S3Client, 'send'>,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<void> {
    const { PutObjectCommand } = await sdk();
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  }

  async get(key: string): Promise<string | undefined> {
    const { GetObjectCommand, NoSuchKey } = await sdk();
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await output.Body?.transformToString('utf8');
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
