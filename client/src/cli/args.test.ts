import { describe, expect, it } from 'vitest';
import { type Command, parseCommandLine, usage } from './args.ts';
import { CliError } from './cli-error.ts';
import { EXIT_USAGE } from './constants.ts';

const URL = 'http://127.0.0.1:8787';

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT_USAGE);
    return (error as CliError).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('sync', () => {
  it('parses the options', () => {
    const command = parseCommandLine(
      [
        'sync',
        '--url',
        URL,
        '--dir',
        'data',
        '--token',
        't0k',
        '--until-caught-up',
        '--timeout',
        '2.5',
        '--json',
        '--no-compression',
      ],
      {},
    );
    expect(command).toEqual<Command>({
      kind: 'sync',
      url: URL,
      dir: 'data',
      token: { kind: 'fixed', token: 't0k' },
      untilCaughtUp: true,
      timeoutMs: 2500,
      json: true,
      compression: false,
    });
  });

  it('defaults to running until a signal, with text status lines and compression offered', () => {
    expect(parseCommandLine(['sync', `--url=${URL}`, '--dir=d', '--token=t'], {})).toEqual({
      kind: 'sync',
      url: URL,
      dir: 'd',
      token: { kind: 'fixed', token: 't' },
      untilCaughtUp: false,
      json: false,
      compression: true,
    });
  });

  it('takes the token from --token, --token-command or VIBESTACK_TOKEN, in that order', () => {
    const base = ['sync', '--url', URL, '--dir', 'd'];
    const env = { VIBESTACK_TOKEN: 'from-env' };
    expect(parseCommandLine([...base, '--token', 'flag'], env)).toMatchObject({
      token: { kind: 'fixed', token: 'flag' },
    });
    expect(parseCommandLine([...base, '--token-command', 'echo x'], env)).toMatchObject({
      token: { kind: 'command', command: 'echo x' },
    });
    expect(parseCommandLine(base, env)).toMatchObject({ token: { kind: 'fixed', token: 'from-env' } });
    expect(usageError(base, { VIBESTACK_TOKEN: '' })).toMatch(/token is required/);
    expect(usageError([...base, '--token', 'a', '--token-command', 'b'])).toMatch(/not both/);
    expect(usageError([...base, '--token', ''])).toMatch(/--token is empty/);
    expect(usageError([...base, '--token-command', '  '])).toMatch(/--token-command is empty/);
  });

  it('takes a base URL, or a sync URL reduced to its base URL and client id (sync-url.test.ts)', () => {
    const sync = (url: string) => ['sync', '--url', url, '--dir', 'd', '--token', 't'];
    for (const url of ['https://sync.example.com', 'ws://localhost:1', 'wss://x.example/base/']) {
      expect(parseCommandLine(sync(url), {})).toMatchObject({ url });
      expect(parseCommandLine(sync(url), {})).not.toHaveProperty('clientId');
    }
    expect(parseCommandLine(sync('ws://127.0.0.1:8787/v1/sync?client_id=c-1'), {})).toMatchObject({
      url: 'ws://127.0.0.1:8787/',
      clientId: 'c-1',
    });
    expect(usageError(sync('localhost:8787'))).toMatch(/--url must start with http/);
    expect(usageError(sync('http://h/v1/sync?token=abc'))).toMatch(/must not carry a token/);
  });

  it('rejects a bad command line', () => {
    const ok = ['sync', '--url', URL, '--dir', 'd', '--token', 't'];
    expect(usageError(['sync', '--dir', 'd', '--token', 't'])).toMatch(/--url is required/);
    expect(usageError(['sync', '--url', URL, '--token', 't'])).toMatch(/--dir is required/);
    expect(usageError([...ok, '--timeout', '5'])).toMatch(/needs --until-caught-up/);
    for (const bad of ['0', '-1', 'soon', '']) {
      expect(usageError([...ok, '--until-caught-up', `--timeout=${bad}`])).toMatch(/positive number/);
    }
    expect(usageError([...ok, '--dir', 'e'])).toMatch(/--dir given more than once/);
    expect(usageError([...ok, '--bogus'])).toMatch(/Unknown option '--bogus'/);
    expect(usageError([...ok, 'extra'])).toMatch(/unexpected argument "extra"/);
    expect(usageError([...ok, '--json=yes'])).toMatch(/does not take an argument/);
    expect(usageError(['sync', '--url'])).toMatch(/argument missing/);
  });
});

describe('query', () => {
  it('parses the directory, the SQL and --write', () => {
    expect(parseCommandLine(['query', '--dir', 'd', 'SELECT 1'], {})).toEqual({
      kind: 'query',
      dir: 'd',
      sql: 'SELECT 1',
      write: false,
    });
    expect(parseCommandLine(['query', 'SELECT 1', '--write', '--dir', 'd'], {})).toMatchObject({
      write: true,
    });
    expect(parseCommandLine(['query', '--dir', 'd', '-'], {})).toMatchObject({ sql: '-' });
    // SQL that starts with a dash goes after `--`.
    expect(parseCommandLine(['query', '--dir', 'd', '--', '-- note\nSELECT 1'], {})).toMatchObject({
      sql: '-- note\nSELECT 1',
    });
  });

  it('rejects a bad command line', () => {
    expect(usageError(['query', 'SELECT 1'])).toMatch(/--dir is required/);
    expect(usageError(['query', '--dir', 'd'])).toMatch(/SQL is missing/);
    expect(usageError(['query', '--dir', 'd', ' '])).toMatch(/SQL is empty/);
    expect(usageError(['query', '--dir', 'd', 'SELECT', '1'])).toMatch(/one argument/);
    expect(usageError(['query', '--dir', 'd', '--json', 'SELECT 1'])).toMatch(/Unknown option '--json'/);
  });
});

describe('help and commands', () => {
  it('prints help for --help, help and <command> --help', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ kind: 'help', text: usage() });
    expect(parseCommandLine(['-h'], {})).toEqual({ kind: 'help', text: usage() });
    expect(parseCommandLine(['help'], {})).toEqual({ kind: 'help', text: usage() });
    expect(parseCommandLine(['help', 'sync'], {})).toEqual({ kind: 'help', text: usage('sync') });
    expect(parseCommandLine(['query', '--help'], {})).toEqual({ kind: 'help', text: usage('query') });
    // --help wins over missing options.
    expect(parseCommandLine(['sync', '-h'], {})).toEqual({ kind: 'help', text: usage('sync') });
    expect(usage('sync')).toContain('--until-caught-up');
    expect(usage('query')).toContain('--write');
  });

  it('rejects a missing or unknown command', () => {
    expect(usageError([])).toMatch(/a command is required/);
    expect(usageError(['pull'])).toMatch(/unknown command "pull"/);
    expect(usageError(['help', 'pull'])).toMatch(/unknown command "pull"/);
  });
});
