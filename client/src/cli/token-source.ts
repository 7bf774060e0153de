/**
 * Tokens for `sync`: a fixed one, or one printed by a shell command. The command runs for every connection
 * attempt (so an expiring token is renewed on each reconnect); after the server rejected the last token it runs
 * with `VIBESTACK_TOKEN_FRESH=1`, for a command that caches tokens and must skip its cache then (§4.3: a client
 * must not retry with the same token).
 */

import { exec } from 'node:child_process';
import type { TokenSource } from './args.ts';
import { TOKEN_COMMAND_MAX_BYTES, TOKEN_COMMAND_TIMEOUT_MS, TOKEN_FRESH_ENV } from './constants.ts';

/** A token function for `createSyncClient` (`fresh`: the server rejected the last token). */
export type TokenProvider = (fresh: boolean) => Promise<string>;

/** Runs `command` with the shell; resolves to its trimmed stdout. */
function runTokenCommand(
  command: string,
  fresh: boolean,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    exec(
      command,
      {
        env: { ...env, [TOKEN_FRESH_ENV]: fresh ? '1' : '0' },
        timeout: TOKEN_COMMAND_TIMEOUT_MS,
        maxBuffer: TOKEN_COMMAND_MAX_BYTES,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error !== null) {
          const said = stderr.trim().split('\n').at(-1);
          reject(
            new Error(`--token-command failed (${error.message.split('\n')[0]})${said ? `: ${said}` : ''}`),
          );
          return;
        }
        const token = stdout.trim();
        if (token === '') reject(new Error('--token-command printed no token'));
        else resolve(token);
      },
    );
  });
}

/**
 * The `token` option of `createSyncClient` for a {@link TokenSource}: a fixed token as it is (when the server
 * refuses it the client fails with UNAUTHENTICATED, never sending it again), a command as a provider.
 *
 * @param env the environment the command runs in (the CLI's own).
 */
export function createTokenProvider(
  source: TokenSource,
  env: Readonly<Record<string, string | undefined>>,
): string | TokenProvider {
  if (source.kind === 'fixed') return source.token;
  return (fresh) => runTokenCommand(source.command, fresh, env);
}
