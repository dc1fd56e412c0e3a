import { ControlPlaneClient } from '../../lib/cli/client.js';
import { ApiError, commands, describeApiError } from '../../lib/cli/commands.js';

/**
 * A CLI command as `npm run cli -- <name> …` runs it, in process, against the control plane at `baseUrl`
 * as `principal` (DATAKIT_PRINCIPAL): its exit code and everything it printed; an API refusal prints as
 * the CLI prints it and exits 1.
 */
export async function runCli(
  baseUrl: string,
  principal: string,
  ...argv: string[]
): Promise<{ code: number; out: string }> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) throw new Error(`no command ${name}`);
  const lines: string[] = [];
  try {
    const code = await command.run({
      args,
      client: new ControlPlaneClient({ baseUrl, principal }),
      out: (text) => lines.push(text),
      err: (text) => lines.push(text),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    return { code, out: lines.join('\n') };
  } catch (error) {
    if (error instanceof ApiError) return { code: 1, out: describeApiError(error.answer) };
    throw error;
  }
}
