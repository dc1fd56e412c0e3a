import { maxRunTimeoutSeconds } from '../../contracts/workflows/run-state-machine.js';

/** A run's timeout when the Transform sets none (issue 8). */
export const defaultRunTimeoutSeconds = 3600;

/** `spec.timeout` (`30s`, `10m`, `2h`, validated at registration by E031) in seconds, capped. */
export function timeoutSecondsOf(timeout: string | undefined): number {
  const match = timeout === undefined ? null : /^(\d+)([smh])$/u.exec(timeout);
  if (match === null) return defaultRunTimeoutSeconds;
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Math.min(maxRunTimeoutSeconds, Math.max(1, Number(match[1]) * unit));
}

/** Fargate's CPU units and the memory sizes (MiB) each accepts, ascending. */
const fargateSizes: readonly (readonly [number, readonly number[]])[] = [
  [256, [512, 1024, 2048]],
  [512, steps(1024, 4096, 1024)],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)],
];

function steps(min: number, max: number, step: number): number[] {
  return Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);
}

/** Kubernetes-style CPU (`500m`, `1`, `0.5`) in Fargate CPU units (1 vCPU = 1024). */
function cpuUnits(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const milli = /^(\d+)m$/u.exec(quantity);
  if (milli !== null) return (Number(milli[1]) / 1000) * 1024;
  const cores = Number(quantity);
  return Number.isFinite(cores) && cores > 0 ? cores * 1024 : undefined;
}

const memoryUnits: Record<string, number> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 * 1024,
  K: 1000 / 1048576,
  M: 1e6 / 1048576,
  G: 1e9 / 1048576,
};

/** Kubernetes-style memory (`512Mi`, `2Gi`, `1G`, bytes) in MiB. */
function memoryMiB(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/u.exec(quantity);
  if (match === null) return undefined;
  const unit = match[2];
  const value = Number(match[1]);
  return unit === undefined ? value / 1048576 : value * (memoryUnits[unit] ?? 1);
}

/**
 * The smallest Fargate size that satisfies `spec.resources` (limits over requests); 1 vCPU and 2 GiB
 * when the Transform asks for nothing. Asks beyond Fargate's largest size get the largest.
 */
export function fargateSizeOf(
  resources:
    | {
        readonly requests?:
          | { readonly cpu?: string | undefined; readonly memory?: string | undefined }
          | undefined;
        readonly limits?:
          | { readonly cpu?: string | undefined; readonly memory?: string | undefined }
          | undefined;
      }
    | undefined,
): { readonly cpu: number; readonly memory: number } {
  const cpu = cpuUnits(resources?.limits?.cpu ?? resources?.requests?.cpu) ?? 1024;
  const memory = memoryMiB(resources?.limits?.memory ?? resources?.requests?.memory) ?? 2048;
  for (const [units, memories] of fargateSizes) {
    if (units < cpu) continue;
    const fitted = memories.find((size) => size >= memory);
    if (fitted !== undefined) return { cpu: units, memory: fitted };
  }
  return { cpu: 16384, memory: 122880 };
}
