import type { CellRecord, CellStoreRepository, StoreRecord } from '../../ports/cell-store.js';
import type { Page } from '../../ports/package-repository.js';
import { recordSchemas } from './deployment-records-lazy.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

/** Cells (`CELL#{cell}` / `#CELL`, listed through GSI1 `CELLS`) and their Stores (`STORE#{store}`). */
export class DynamoCellStore implements CellStoreRepository {
  constructor(private readonly table: SingleTable) {}

  async getCell(cell: string): Promise<CellRecord | undefined> {
    const { cellRecordSchema } = await recordSchemas();
    const item = await this.table.get(keys.cell(cell));
    return item === undefined ? undefined : cellRecordSchema.parse(item);
  }

  async listCells(query: {
    readonly limit: number;
    readonly cursor?: string | undefined;
  }): Promise<Page<CellRecord>> {
    const { cellRecordSchema } = await recordSchemas();
    const page = await this.table.query({
      index: 'GSI1',
      partition: keys.cellsIndex.pk,
      limit: query.limit,
      cursor: query.cursor,
    });
    const items = page.items.map((item) => cellRecordSchema.parse(item));
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  }

  async putCell(cell: CellRecord, expectedRevision: number): Promise<CellRecord> {
    const { cellRecordSchema } = await recordSchemas();
    const written = await this.table.putWithRevision(
      { ...keys.cell(cell.name), ...cell, GSI1PK: keys.cellsIndex.pk, GSI1SK: keys.cellsIndex.sk(cell.name) },
      expectedRevision,
    );
    return cellRecordSchema.parse(written);
  }

  async getStore(cell: string, store: string): Promise<StoreRecord | undefined> {
    const { storeRecordSchema } = await recordSchemas();
    const item = await this.table.get(keys.cellStore(cell, store));
    return item === undefined ? undefined : storeRecordSchema.parse(item);
  }

  async getStores(cell: string, stores: readonly string[]): Promise<ReadonlyMap<string, StoreRecord>> {
    const { storeRecordSchema } = await recordSchemas();
    const items = await this.table.batchGet(stores.map((store) => keys.cellStore(cell, store)));
    const found = new Map<string, StoreRecord>();
    for (const item of items) {
      if (item === undefined) continue;
      const record = storeRecordSchema.parse(item);
      found.set(record.name, record);
    }
    return found;
  }

  async listStores(cell: string): Promise<StoreRecord[]> {
    const { storeRecordSchema } = await recordSchemas();
    const items = await this.table.queryAll({
      partition: keys.cellPartition(cell),
      beginsWith: keys.cellStorePrefix,
      consistent: true,
    });
    return items.map((item) => storeRecordSchema.parse(item));
  }

  async putStore(record: StoreRecord): Promise<void> {
    await this.table.putWithRevision(
      { ...keys.cellStore(record.cell, record.name), ...record },
      record.revision - 1,
    );
  }
}
