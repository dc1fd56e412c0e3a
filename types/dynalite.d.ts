declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    ssl?: boolean;
  }

  /** dynalite: a DynamoDB-compatible server backed by LevelDB (in memory without `path`). */
  export default function dynalite(options?: DynaliteOptions): Server;
}
