import type { Cell, CellRuntime, CellStore } from '../../contracts/api/cells.js';
import { loadManifest } from '../../contracts/manifests/loader.js';
import type { CellRecord, CellStoreRepository } from '../../ports/cell-store.js';
import type { Page } from '../../ports/package-repository.js';
import type { SecretStore } from '../../ports/secret-store.js';
import { found, NotFoundError, ValidationError } from '../errors.js';
import { secretNamesOf } from '../runs/store-connection.js';

/** `embedded`: the API creates cells (runtime `local`); `aws`: cell stacks create them, the API edits labels. */
export type CellMode = 'embedded' | 'aws';

export interface CellDependencies {
  readonly cells: CellStoreRepository;
  readonly secrets: SecretStore;
  readonly clock: () => Date;
  readonly mode: CellMode;
}

/** The cell embedded mode creates at start. */
export const localCellName = 'local';
const localRuntime: CellRuntime = { kind: 'local' };

export function cellNotFound(cell: string, mode: CellMode): NotFoundError {
  const hint =
    mode === 'aws'
      ? 'cells are created by deploying a cell stack (CDK context datakit:cells)'
      : `create it with PUT /v1/cells/${cell}`;
  return new NotFoundError('CELL_NOT_FOUND', `No cell ${cell}; ${hint}.`);
}

/** Cells and their Stores: the use cases behind `/v1/cells` (ADR 0006). */
export function makeCells(deps: CellDependencies) {
  const { cells, secrets, clock, mode } = deps;

  const withCount = async (record: CellRecord): Promise<Cell> => {
    const { revision: _revision, ...cell } = record;
    return { ...cell, storeCount: (await cells.listStores(record.name)).length };
  };

  const requireCell = async (cell: string): Promise<CellRecord> => {
    const record = await cells.getCell(cell);
    if (record === undefined) throw cellNotFound(cell, mode);
    return record;
  };

  return {
    async getCell(cell: string): Promise<Cell> {
      return withCount(await requireCell(cell));
    },

    async listCells(query: {
      readonly limit: number;
      readonly cursor?: string | undefined;
    }): Promise<Page<Cell>> {
      const page = await cells.listCells(query);
      const items = await Promise.all(page.items.map(withCount));
      return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
    },

    /**
     * Creates a cell (embedded mode) or changes its description and labels. Returns whether it was
     * created. In AWS a cell exists only once its stack has written it.
     */
    async putCell(
      cell: string,
      body: {
        readonly description?: string | undefined;
        readonly labels?: Readonly<Record<string, string>> | undefined;
      },
    ): Promise<{
      readonly cell: Cell;
      readonly created: boolean;
      /** What it was before (description and labels), for the audit trail. */
      readonly previous?: Pick<CellRecord, 'description' | 'labels'>;
    }> {
      const now = clock().toISOString();
      const existing = await cells.getCell(cell);
      if (existing === undefined && mode === 'aws') throw cellNotFound(cell, mode);
      const next: CellRecord =
        existing === undefined
          ? {
              name: cell,
              labels: { ...(body.labels ?? {}) },
              origin: 'embedded',
              runtime: localRuntime,
              createdAt: now,
              updatedAt: now,
              revision: 0,
              ...(body.description === undefined ? {} : { description: body.description }),
            }
          : {
              ...existing,
              ...(body.description === undefined ? {} : { description: body.description }),
              ...(body.labels === undefined ? {} : { labels: { ...body.labels } }),
              updatedAt: now,
            };
      const written = await cells.putCell(next, existing?.revision ?? 0);
      return {
        cell: await withCount(written),
        created: existing === undefined,
        ...(existing === undefined
          ? {}
          : {
              previous: {
                labels: existing.labels,
                ...(existing.description === undefined ? {} : { description: existing.description }),
              },
            }),
      };
    },

    /** Makes sure embedded mode's `local` cell exists. */
    async ensureLocalCell(): Promise<void> {
      if ((await cells.getCell(localCellName)) !== undefined) return;
      const now = clock().toISOString();
      try {
        await cells.putCell(
          {
            name: localCellName,
            description: 'This process: Transforms run as local processes',
            labels: {},
            origin: 'embedded',
            runtime: localRuntime,
            createdAt: now,
            updatedAt: now,
            revision: 0,
          },
          0,
        );
      } catch (error) {
        // Another start created it first: fine.
        if ((await cells.getCell(localCellName)) === undefined) throw error;
      }
    },

    /**
     * Creates or replaces a Store of a cell from a Store manifest (JSON or YAML text), validated by the
     * Store contract (E210–E212, with field paths). In AWS its secret is created empty on first write.
     */
    async putStore(
      cell: string,
      store: string,
      text: string,
    ): Promise<{
      readonly store: CellStore;
      readonly created: boolean;
      /** The Store it replaced, for the audit trail. */
      readonly previous?: CellStore;
    }> {
      await requireCell(cell);
      const loaded = loadManifest(text);
      if (!loaded.ok) {
        throw new ValidationError('STORE_MANIFEST_INVALID', 'The Store manifest breaks the Store contract.', {
          problems: loaded.problems.map((problem) => ({ ...problem, path: bodyPath(problem.path) })),
        });
      }
      const manifest = loaded.manifest;
      if (manifest.kind !== 'Store') {
        throw new ValidationError(
          'STORE_MANIFEST_INVALID',
          `The body is a ${manifest.kind}, not a Store manifest.`,
          {
            problems: [{ code: 'E002', path: 'body.kind', message: 'must be Store' }],
          },
        );
      }
      if (manifest.metadata.name !== store) {
        throw new ValidationError(
          'STORE_NAME_MISMATCH',
          `The manifest names store ${manifest.metadata.name}, the path ${store}.`,
          {
            problems: [
              { code: 'STORE_NAME_MISMATCH', path: 'body.metadata.name', message: `must be ${store}` },
            ],
          },
        );
      }
      const existing = await cells.getStore(cell, store);
      const secretArn = existing?.secretArn ?? (await secrets.ensureStoreSecret({ cell, store }));
      const record: CellStore = {
        cell,
        name: store,
        connector: manifest.spec.connector,
        manifest,
        secretNames: secretNamesOf(manifest),
        revision: (existing?.revision ?? 0) + 1,
        updatedAt: clock().toISOString(),
        ...(secretArn === undefined ? {} : { secretArn }),
      };
      await cells.putStore(record);
      return {
        store: record,
        created: existing === undefined,
        ...(existing === undefined ? {} : { previous: existing }),
      };
    },

    async getStore(cell: string, store: string): Promise<CellStore> {
      await requireCell(cell);
      return found(
        await cells.getStore(cell, store),
        'STORE_NOT_FOUND',
        `Cell ${cell} has no store ${store}.`,
      );
    },

    async listStores(cell: string): Promise<CellStore[]> {
      await requireCell(cell);
      return cells.listStores(cell);
    },
  };
}

export type Cells = ReturnType<typeof makeCells>;

function bodyPath(path: string | undefined): string {
  return path === undefined || path === '' ? 'body' : `body.${path}`;
}
