import type { TransformManifest } from '../../contracts/manifests/transform.js';
import type { Problem } from '../../contracts/problem.js';

/** W209 (warning): a batch Transform without a trigger only ever runs when someone starts it by hand. */
export function checkBatchTrigger(transform: TransformManifest): Problem[] {
  // The schema's default mode is batch, so an absent mode counts as batch.
  const mode = transform.spec.mode ?? 'batch';
  if (mode !== 'batch' || transform.spec.trigger !== undefined) {
    return [];
  }
  return [
    {
      code: 'W209',
      path: 'spec.trigger',
      message: `batch Transform ${transform.metadata.name} has no trigger; add a schedule, on-change or manual policy`,
    },
  ];
}
