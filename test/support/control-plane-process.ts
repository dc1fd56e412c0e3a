import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface ControlPlaneProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /**
   * Sends the signal to the whole process group, as a terminal's Ctrl-C or a process manager does,
   * and resolves once every process of the group has exited.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs `npm start` exactly as the README tells a user to, on a free port and a given data directory,
 * and waits until it says it is listening.
 */
export async function startControlPlaneProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ControlPlaneProcess> {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: String(port), DATAKIT_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a signal reaches npm and the node process it starts alike.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('control plane listening')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      // The whole group: npm's node child would outlive npm.
      signalGroup(-(child.pid ?? 0), 'SIGKILL');
      throw new Error(`npm start did not start listening within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      const group = -(child.pid ?? 0);
      signalGroup(group, signal);
      const deadline = Date.now() + 15_000;
      while (groupAlive(group)) {
        if (Date.now() > deadline) signalGroup(group, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // The group has already exited.
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}
