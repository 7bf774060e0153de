/**
 * Entry point of the TypeScript client's conformance adapter: the adapter protocol on stdin/stdout, logs on
 * stderr. Run it through `bin.js` (which registers tsx): `node conformance/adapters/typescript/bin.js`.
 */

import { serveAdapter } from '@vibestack/conformance';
import { createTypeScriptAdapter } from './typescript-adapter.ts';

/** Runs an adapter on this process's stdio until stdin ends or SIGTERM. */
export async function runAdapter(
  options: Omit<Parameters<typeof createTypeScriptAdapter>[0], 'log'> = {},
): Promise<never> {
  // stdout carries the protocol only: anything a library prints goes to stderr.
  const toStderr = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  process.on('SIGTERM', () => process.exit(0));
  const adapter = createTypeScriptAdapter({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  const host = serveAdapter(process.stdin, process.stdout, (command) => adapter.handle(command));
  adapter.attach(host);
  await host.done;
  process.exit(0);
}
