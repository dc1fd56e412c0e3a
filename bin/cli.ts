import { ControlPlaneClient } from '../lib/cli/client.js';
import {
  ApiError,
  type CommandContext,
  commands,
  describeApiError,
  UsageError,
} from '../lib/cli/commands.js';

const usage = [
  'usage: npm run cli -- <command> [arguments]',
  '',
  ...Object.values(commands).map((command) => `  ${command.usage}`),
  '',
  'DATAKIT_URL (default http://127.0.0.1:8080) is the control plane; a deployed API (https) is called with',
  'SigV4 from the usual AWS credentials. DATAKIT_PRINCIPAL names the caller to the embedded mode.',
  '',
].join('\n');

/** The developer CLI: `push` publishes a package as `dk publish` would; the rest call the API. */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  const context: CommandContext = {
    args,
    client: new ControlPlaneClient({
      baseUrl: process.env.DATAKIT_URL ?? 'http://127.0.0.1:8080',
      principal: process.env.DATAKIT_PRINCIPAL,
    }),
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  try {
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\nusage: npm run cli -- ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ApiError) {
      process.stderr.write(`${describeApiError(error.answer)}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
