import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxRunTimeoutSeconds } from '../../../lib/contracts/workflows/run-state-machine.js';
import { fargateSizeOf, timeoutSecondsOf } from '../../../lib/domain/runs/task-sizing.js';

const fargate: Record<number, (memory: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

describe('run timeouts', () => {
  it('reads spec.timeout and defaults to an hour', () => {
    expect(timeoutSecondsOf('30s')).toBe(30);
    expect(timeoutSecondsOf('10m')).toBe(600);
    expect(timeoutSecondsOf('2h')).toBe(7200);
    expect(timeoutSecondsOf(undefined)).toBe(3600);
  });

  it('caps a timeout at the longest a run may take', () => {
    expect(timeoutSecondsOf('99999h')).toBe(maxRunTimeoutSeconds);
  });
});

describe('Fargate sizes', () => {
  it('gives 1 vCPU and 2 GiB when the Transform asks for nothing', () => {
    expect(fargateSizeOf(undefined)).toEqual({ cpu: 1024, memory: 2048 });
  });

  it('fits Kubernetes-style requests into the smallest Fargate size, limits first', () => {
    expect(fargateSizeOf({ requests: { cpu: '250m', memory: '512Mi' } })).toEqual({ cpu: 256, memory: 512 });
    expect(
      fargateSizeOf({ requests: { cpu: '2', memory: '3Gi' }, limits: { cpu: '4', memory: '9Gi' } }),
    ).toEqual({
      cpu: 4096,
      memory: 9216,
    });
  });

  it('gives a quarter vCPU only the memory sizes Fargate allows it (no 1.5 GiB)', () => {
    expect(fargateSizeOf({ requests: { cpu: '250m', memory: '1025Mi' } })).toEqual({
      cpu: 256,
      memory: 2048,
    });
    expect(fargateSizeOf({ requests: { cpu: '250m', memory: '3Gi' } })).toEqual({ cpu: 512, memory: 3072 });
  });

  it('always yields a combination Fargate accepts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 200_000 }),
        (milli, mebibytes) => {
          const size = fargateSizeOf({ requests: { cpu: `${milli}m`, memory: `${mebibytes}Mi` } });
          expect(fargate[size.cpu]?.(size.memory)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
