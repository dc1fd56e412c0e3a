import type { Cell, CellStore } from '../contracts/api/cells.js';
import type { Page } from './package-repository.js';

/** A cell as stored, with its optimistic-locking revision. */
export interface CellRecord extends Omit<Cell, 'storeCount'> {
  readonly revision: number;
}

/** A Store of a cell as stored; `revision` counts its changes (task definitions are keyed by it). */
export type StoreRecord = CellStore;

/** Cells and their Stores (ADR 0006). */
export interface CellStoreRepository {
  getCell(cell: string): Promise<CellRecord | undefined>;
  listCells(query: {
    readonly limit: number;
    readonly cursor?: string | undefined;
  }): Promise<Page<CellRecord>>;
  /** Writes the cell if its stored revision is still `expectedRevision` (0: must not exist). */
  putCell(cell: CellRecord, expectedRevision: number): Promise<CellRecord>;
  getStore(cell: string, store: string): Promise<StoreRecord | undefined>;
  /** The named Stores of a cell in one round trip; absent names are missing from the map. */
  getStores(cell: string, stores: readonly string[]): Promise<ReadonlyMap<string, StoreRecord>>;
  listStores(cell: string): Promise<StoreRecord[]>;
  /** Writes the Store if its stored revision is still `record.revision - 1` (so a first write has revision 1). */
  putStore(record: StoreRecord): Promise<void>;
}
