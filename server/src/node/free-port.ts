import { createServer } from 'node:net';
import { LOOPBACK_HOST } from '../constants.ts';

/** Resolves `true` when nothing listens on `port` of the loopback interface. */
export function isPortFree(port: number, host: string = LOOPBACK_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A TCP port that was free on the loopback interface a moment ago, chosen by the OS. Another process can
 * take it before the caller binds; callers that bind later retry on `EADDRINUSE`.
 */
export function randomFreePort(host: string = LOOPBACK_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('the OS returned no port'))));
    });
  });
}

/**
 * `preferred` when it is free, otherwise a random free port. `preferred` of `undefined` or `0` means "any".
 *
 * @example
 * const port = await pickPort(54329); // 54329, or e.g. 41873 when 54329 is taken
 */
export async function pickPort(preferred?: number, host: string = LOOPBACK_HOST): Promise<number> {
  if (preferred !== undefined && preferred > 0 && (await isPortFree(preferred, host))) return preferred;
  return randomFreePort(host);
}
