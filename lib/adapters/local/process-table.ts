import { readdirSync, readFileSync } from 'node:fs';

/**
 * What Linux's `/proc` says about processes: enough to recognise a process (its start time) and to find
 * the members of a process group. Reads are synchronous on purpose: /proc touches no disk, and a scan
 * reads hundreds of tiny files. Without /proc (not Linux) every answer is "nothing known".
 */

export interface ProcessStat {
  readonly pid: number;
  readonly state: string;
  readonly pgrp: number;
  readonly startTime: number;
}

/** Reads `/proc/{pid}/stat`; undefined when the process does not exist (or there is no /proc). */
export function processStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pgrp) || !Number.isInteger(startTime)) return undefined;
  return { pid, state, pgrp, startTime };
}

export function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The live (non-zombie) members of a process group; undefined when /proc cannot tell. */
export function liveGroupMembers(pgid: number): number[] | undefined {
  if (processStat(process.pid) === undefined) return undefined;
  return listPids()
    .map(processStat)
    .filter((stat): stat is ProcessStat => stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z')
    .map((stat) => stat.pid);
}
