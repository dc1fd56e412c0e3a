import type { CellRecordProperties } from '../../contracts/cell-resources.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

/**
 * The cell records cell stacks own (ADR 0006, ADR 0011): a stack writes its cell's record when it is
 * created or updated and deletes it with the stack. The stack owns `runtime`; description and labels are
 * only initial values, because `PUT /v1/cells/{cell}` may have changed them since, and a redeploy must
 * not undo that.
 */
export class StackCellRecords {
  constructor(
    private readonly table: SingleTable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Creates or updates the record in one UpdateItem, so an edit through the API between two deploys is
   * kept. Every write bumps `revision`, so an optimistic-locking writer that read the record before this
   * write retries with the new runtime.
   */
  async put(cell: CellRecordProperties): Promise<void> {
    const at = this.now().toISOString();
    await this.table.update(keys.cell(cell.name), {
      set: {
        name: cell.name,
        origin: 'stack',
        runtime: cell.runtime,
        GSI1PK: keys.cellsIndex.pk,
        GSI1SK: keys.cellsIndex.sk(cell.name),
        updatedAt: at,
      },
      setIfAbsent: {
        ...(cell.description === undefined ? {} : { description: cell.description }),
        labels: cell.labels,
        createdAt: at,
      },
      add: { revision: 1 },
    });
  }

  /** Deletes the record; deleting a record that is not there is not an error (CloudFormation retries). */
  async delete(name: string): Promise<void> {
    await this.table.delete(keys.cell(name));
  }
}
