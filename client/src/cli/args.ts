/**
 * The command line of `vibestack-client` (docs/cli.md): `sync`, `query` and help, parsed with `node:util`
 * `parseArgs` into a typed command. Anything wrong is a {@link CliError} with exit code 2.
 */

import { parseArgs } from 'node:util';
import { CliError } from './cli-error.ts';
import { CLI_NAME, TOKEN_ENV, TOKEN_FRESH_ENV } from './constants.ts';
import { parseSyncUrl } from './sync-url.ts';

/** Where `sync` gets its token. */
export type TokenSource =
  /** One token for the whole run (`--token`, or the environment variable `VIBESTACK_TOKEN`). */
  | { readonly kind: 'fixed'; readonly token: string }
  /** A shell command that prints a token, run for every connection attempt. */
  | { readonly kind: 'command'; readonly command: string };

/** `vibestack-client sync`. */
export interface SyncCommand {
  readonly kind: 'sync';
  /** The server's base URL (`http(s)://` or `ws(s)://`, maybe with a path prefix; sync-url.ts). */
  readonly url: string;
  /** The `client_id` of a sync URL given as `--url`: it must be the directory's own client id. */
  readonly clientId?: string;
  /** The PGlite data directory (created when missing). */
  readonly dir: string;
  readonly token: TokenSource;
  /** Exit once caught up with the server instead of running until a signal. */
  readonly untilCaughtUp: boolean;
  /** With `untilCaughtUp`: give up after this long, in ms. */
  readonly timeoutMs?: number;
  /** Status lines on stderr as JSON objects instead of text. */
  readonly json: boolean;
  /** Offer WebSocket compression (permessage-deflate); `--no-compression` turns it off. */
  readonly compression: boolean;
}

/** `vibestack-client query`. */
export interface QueryCommand {
  readonly kind: 'query';
  /** The PGlite data directory (must hold a database). */
  readonly dir: string;
  /** The SQL text; `-` means "read it from stdin". */
  readonly sql: string;
  /** Allow writes (by default the session is read-only). */
  readonly write: boolean;
}

/** `--help`, `help [command]` or `<command> --help`: print `text` on stdout and exit 0. */
export interface HelpCommand {
  readonly kind: 'help';
  readonly text: string;
}

/** A parsed command line. */
export type Command = SyncCommand | QueryCommand | HelpCommand;

const SYNC_USAGE = `Usage: ${CLI_NAME} sync --url URL --dir DIR [token] [--until-caught-up [--timeout SECONDS]] [--json]
                             [--no-compression]

Keeps the PGlite database in DIR (created when missing) in sync with the VibeStack server at URL.
Runs until SIGINT or SIGTERM, then stops cleanly and exits 0.

Token (one of; needed for every connection):
  --token TOKEN          a fixed token (visible in the process list: prefer the environment variable)
  --token-command CMD    a shell command that prints a token; run for every connection attempt, with
                         ${TOKEN_FRESH_ENV}=1 after the server rejected the previous token
  ${TOKEN_ENV}        environment variable read when neither option is given

Options:
  --url URL              the server's base URL (http://, https://, ws:// or wss://, e.g. http://127.0.0.1:8787),
                         or its sync URL (ws://127.0.0.1:8787/v1/sync; a ?client_id=… in it must be the
                         client id of DIR)
  --dir DIR              the database directory (one process at a time)
  --until-caught-up      exit 0 once every change up to the server's current LSN is committed locally
  --timeout SECONDS      with --until-caught-up: exit 1 if not caught up in time
  --json                 status lines on stderr as JSON objects, one per line
  --no-compression       do not offer WebSocket compression (permessage-deflate): faster on a fast network,
                         more bytes on a slow one
  -h, --help             this help

Exit codes: 0 done, 1 failed (the error code name is printed, e.g. UNAUTHENTICATED), 2 bad command line,
128+N interrupted by signal N before --until-caught-up was reached.`;

const QUERY_USAGE = `Usage: ${CLI_NAME} query --dir DIR [--write] SQL

Runs SQL against the PGlite database in DIR and prints the rows of the last statement on stdout as a JSON
array of objects (one row per line). int8, numeric, money, dates, times, bytea and other types without an exact
JSON form are strings in Postgres text form; see docs/cli.md for the mapping. SQL "-" reads the SQL from stdin;
put "--" before SQL that starts with a dash.

The directory must not be open in another process: stop a running "${CLI_NAME} sync" on it first.

Options:
  --dir DIR              the database directory
  --write                allow writes (the session is read-only by default; writes to synced tables are
                         not sent to the server and may be overwritten by sync)
  -h, --help             this help

Exit codes: 0 done, 1 SQL error or unusable directory, 2 bad command line.`;

const MAIN_USAGE = `Usage: ${CLI_NAME} <command> [options]

Commands:
  sync     keep a PGlite directory in sync with a VibeStack server
  query    run SQL against a PGlite directory and print the rows as JSON
  help     show help for a command

Run "${CLI_NAME} <command> --help" for a command's options.`;

/** The usage text of a command, or the overview. */
export function usage(command?: 'sync' | 'query'): string {
  return command === 'sync' ? SYNC_USAGE : command === 'query' ? QUERY_USAGE : MAIN_USAGE;
}

type Values = Record<string, string[] | boolean | undefined>;

function parse(
  args: readonly string[],
  strings: readonly string[],
  booleans: readonly string[],
): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string'; multiple: true } | { type: 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of strings) options[name] = { type: 'string', multiple: true };
  for (const name of booleans) options[name] = { type: 'boolean' };
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw CliError.usage((error as Error).message.split('\n')[0]!);
  }
}

/** The one value of a string option, `undefined` when absent; repeating it is a usage error. */
function single(values: Values, name: string): string | undefined {
  const all = values[name] as string[] | undefined;
  if (all === undefined) return undefined;
  if (all.length > 1) throw CliError.usage(`--${name} given more than once`);
  return all[0];
}

function required(values: Values, name: string, command: string): string {
  const value = single(values, name);
  if (value === undefined || value === '') throw CliError.usage(`${command}: --${name} is required`);
  return value;
}

function parseTokenSource(values: Values, env: Readonly<Record<string, string | undefined>>): TokenSource {
  const token = single(values, 'token');
  const command = single(values, 'token-command');
  if (token !== undefined && command !== undefined) {
    throw CliError.usage('sync: give --token or --token-command, not both');
  }
  if (token !== undefined) {
    if (token === '') throw CliError.usage('sync: --token is empty');
    return { kind: 'fixed', token };
  }
  if (command !== undefined) {
    if (command.trim() === '') throw CliError.usage('sync: --token-command is empty');
    return { kind: 'command', command };
  }
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { kind: 'fixed', token: fromEnv };
  throw CliError.usage(`sync: a token is required: --token, --token-command or ${TOKEN_ENV}`);
}

function parseTimeout(text: string | undefined, untilCaughtUp: boolean): number | undefined {
  if (text === undefined) return undefined;
  if (!untilCaughtUp) throw CliError.usage('sync: --timeout needs --until-caught-up');
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw CliError.usage(`sync: --timeout must be a positive number of seconds, not "${text}"`);
  }
  return Math.ceil(seconds * 1000);
}

function parseSync(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Command {
  const { values, positionals } = parse(
    args,
    ['url', 'dir', 'token', 'token-command', 'timeout'],
    ['until-caught-up', 'json', 'no-compression'],
  );
  if (values.help === true) return { kind: 'help', text: usage('sync') };
  if (positionals.length > 0) throw CliError.usage(`sync: unexpected argument "${positionals[0]}"`);
  const untilCaughtUp = values['until-caught-up'] === true;
  const timeoutMs = parseTimeout(single(values, 'timeout'), untilCaughtUp);
  const { baseUrl, clientId } = parseSyncUrl(required(values, 'url', 'sync'));
  return {
    kind: 'sync',
    url: baseUrl,
    ...(clientId === undefined ? {} : { clientId }),
    dir: required(values, 'dir', 'sync'),
    token: parseTokenSource(values, env),
    untilCaughtUp,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    json: values.json === true,
    compression: values['no-compression'] !== true,
  };
}

function parseQuery(args: readonly string[]): Command {
  const { values, positionals } = parse(args, ['dir'], ['write']);
  if (values.help === true) return { kind: 'help', text: usage('query') };
  const dir = required(values, 'dir', 'query');
  if (positionals.length === 0) throw CliError.usage('query: the SQL is missing');
  if (positionals.length > 1) {
    throw CliError.usage(
      `query: give the SQL as one argument (quote it); extra argument "${positionals[1]}"`,
    );
  }
  const sql = positionals[0]!;
  if (sql.trim() === '') throw CliError.usage('query: the SQL is empty');
  return { kind: 'query', dir, sql, write: values.write === true };
}

/**
 * Parses the arguments after the program name.
 *
 * @param env the environment (for `VIBESTACK_TOKEN`).
 * @throws CliError with exit code 2 for a bad command line.
 * @example
 * parseCommandLine(['query', '--dir', './data', 'SELECT 1'], process.env);
 * // → { kind: 'query', dir: './data', sql: 'SELECT 1', write: false }
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Command {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sync':
      return parseSync(rest, env);
    case 'query':
      return parseQuery(rest);
    case 'help': {
      const topic = rest[0];
      if (topic === undefined) return { kind: 'help', text: usage() };
      if (topic === 'sync' || topic === 'query') return { kind: 'help', text: usage(topic) };
      throw CliError.usage(`help: unknown command "${topic}"`);
    }
    case '-h':
    case '--help':
      return { kind: 'help', text: usage() };
    case undefined:
      throw CliError.usage('a command is required');
    default:
      throw CliError.usage(`unknown command "${command}"`);
  }
}
