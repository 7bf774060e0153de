/**
 * `sync --url`: the server's base URL (`http(s)://` or `ws(s)://`, with an optional path prefix), or the sync
 * URL itself as docs and logs show it (`ws://host[/prefix]/v1/sync?client_id=…`), reduced to the base URL the
 * client builds its sync URL from. A `client_id` in the URL is returned for the caller to check against the
 * directory's own (a client id belongs to one local database, docs/protocol.md §4.4). Anything else is a usage
 * error with one precise message.
 */

import { CLIENT_ID_PATTERN, SYNC_CLIENT_ID_PARAM, SYNC_PATH } from '@vibestack/proto';
import { CliError } from './cli-error.ts';
import { TOKEN_ENV } from './constants.ts';

/** What `--url` names. */
export interface SyncUrl {
  /** The server's base URL, without the sync path, query or fragment (`ws://127.0.0.1:8787/`). */
  readonly baseUrl: string;
  /** The `client_id` of a sync URL, if it had one. */
  readonly clientId?: string;
}

const SCHEMES = ['http:', 'https:', 'ws:', 'wss:'];
/** Query parameter names that look like a credential: the token never goes into a URL (§2.1). */
const CREDENTIAL_PARAMS = /token|auth|jwt|key|secret|password|session/i;
const EXAMPLE = 'e.g. http://127.0.0.1:8787, or the sync URL ws://127.0.0.1:8787/v1/sync?client_id=ID';

const usage = (message: string) => CliError.usage(`sync: --url ${message}`);

/** `url` as text without a user name and password. */
function shown(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** The query of a sync URL: only `client_id`, once, with a valid value. */
function clientIdOf(url: URL): string | undefined {
  const names = [...url.searchParams.keys()];
  const credential = names.find((n) => CREDENTIAL_PARAMS.test(n));
  if (credential !== undefined) {
    throw usage(
      `must not carry a token (query parameter "${credential}"): the token travels only in the handshake; ` +
        `pass it with --token, --token-command or ${TOKEN_ENV}`,
    );
  }
  const other = names.find((n) => n !== SYNC_CLIENT_ID_PARAM);
  if (other !== undefined) {
    throw usage(`has an unknown query parameter "${other}" (a sync URL takes only ${SYNC_CLIENT_ID_PARAM})`);
  }
  const ids = url.searchParams.getAll(SYNC_CLIENT_ID_PARAM);
  if (ids.length === 0) return undefined;
  if (ids.length > 1) throw usage(`names ${SYNC_CLIENT_ID_PARAM} more than once`);
  const id = ids[0]!;
  if (!CLIENT_ID_PATTERN.test(id)) {
    throw usage(
      `has ${SYNC_CLIENT_ID_PARAM}=${id}, which is not a client id (1–64 characters of A-Z a-z 0-9 . _ : -); ` +
        `leave ?${SYNC_CLIENT_ID_PARAM}=… out: the CLI sends the client id stored in --dir`,
    );
  }
  return id;
}

/**
 * Parses `--url`.
 *
 * @throws CliError (usage, exit 2) naming what is wrong: not a URL, another scheme, no host, a user name or
 *   password, a fragment, a query on a base URL, a query parameter other than `client_id`, a token in the query.
 * @example
 * parseSyncUrl('ws://127.0.0.1:8787/v1/sync?client_id=c1');
 * // → { baseUrl: 'ws://127.0.0.1:8787/', clientId: 'c1' }
 */
export function parseSyncUrl(text: string): SyncUrl {
  // `ws:/v1/sync` and `ws:///v1/sync` parse with "v1" as the host: insist on `scheme://host`.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || !SCHEMES.includes(`${scheme}:`)) {
    throw usage(`must start with http://, https://, ws:// or wss:// (${EXAMPLE}), not "${text}"`);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]/.test(text)) throw usage(`has no host: "${text}" (${EXAMPLE})`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`is not a URL: "${text}" (${EXAMPLE})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw usage(
      `must not contain a user name or password (${shown(url)}): pass the token with --token, ` +
        `--token-command or ${TOKEN_ENV}`,
    );
  }
  if (url.hash !== '') throw usage(`must not have a fragment (${url.hash}): ${shown(url)}`);
  const path = url.pathname.replace(/\/$/, '');
  const isSyncUrl = path.endsWith(SYNC_PATH);
  if (!isSyncUrl && url.search !== '') {
    throw usage(`is a base URL with a query (${url.search}): give the base URL without it (${EXAMPLE})`);
  }
  if (!isSyncUrl) return { baseUrl: text };
  const clientId = clientIdOf(url);
  const base = new URL(url);
  base.search = '';
  base.pathname = path.slice(0, -SYNC_PATH.length) || '/';
  return { baseUrl: base.toString(), ...(clientId === undefined ? {} : { clientId }) };
}
