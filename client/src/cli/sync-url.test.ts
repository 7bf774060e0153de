import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error.ts';
import { EXIT_USAGE } from './constants.ts';
import { parseSyncUrl } from './sync-url.ts';

function rejected(text: string): string {
  try {
    parseSyncUrl(text);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT_USAGE);
    return (error as CliError).message;
  }
  throw new Error(`${text} was accepted`);
}

describe('--url', () => {
  it('takes a base URL as given, with any of the four schemes and a path prefix', () => {
    for (const url of [
      'http://127.0.0.1:8787',
      'https://sync.example.com/',
      'ws://localhost:1',
      'wss://x.example/app/base/',
      'HTTPS://Example.com/App',
    ]) {
      expect(parseSyncUrl(url)).toEqual({ baseUrl: url });
    }
  });

  it('takes the sync URL, keeping its prefix and returning its client id', () => {
    expect(parseSyncUrl('ws://127.0.0.1:8787/v1/sync?client_id=5b2f1f0e-8a43')).toEqual({
      baseUrl: 'ws://127.0.0.1:8787/',
      clientId: '5b2f1f0e-8a43',
    });
    expect(parseSyncUrl('wss://example.com/app/v1/sync?client_id=a.b:c_d')).toEqual({
      baseUrl: 'wss://example.com/app',
      clientId: 'a.b:c_d',
    });
    expect(parseSyncUrl('https://example.com/app/v1/sync/')).toEqual({ baseUrl: 'https://example.com/app' });
    expect(parseSyncUrl('ws://127.0.0.1:8787/v1/sync')).toEqual({ baseUrl: 'ws://127.0.0.1:8787/' });
  });

  it('says exactly what is wrong with anything else', () => {
    expect(rejected('localhost:8787')).toBe(
      'sync: --url must start with http://, https://, ws:// or wss:// (e.g. http://127.0.0.1:8787, or the sync URL ' +
        'ws://127.0.0.1:8787/v1/sync?client_id=ID), not "localhost:8787"',
    );
    expect(rejected('ftp://example.com')).toMatch(/must start with http/);
    expect(rejected('/v1/sync?client_id=c1')).toMatch(/must start with http/);
    expect(rejected('127.0.0.1:8787/v1/sync')).toMatch(/must start with http/);
    expect(rejected('ws:///v1/sync?client_id=c1')).toMatch(/^sync: --url has no host: "ws:\/\/\/v1\/sync/);
    expect(rejected('ws:/v1/sync')).toMatch(/has no host/);
    expect(rejected('http://exa mple.com')).toMatch(/is not a URL/);
  });

  it('refuses credentials in the URL, without repeating them', () => {
    const inQuery = rejected('ws://127.0.0.1:8787/v1/sync?client_id=c1&token=eyJhbGc.secret');
    expect(inQuery).toMatch(
      /must not carry a token \(query parameter "token"\).*--token, --token-command or VIBESTACK_TOKEN/,
    );
    expect(inQuery).not.toContain('secret');
    expect(rejected('https://sync.example.com/v1/sync?access_token=x')).toMatch(/"access_token"/);
    const userinfo = rejected('https://user:hunter2@sync.example.com/app');
    expect(userinfo).toMatch(
      /must not contain a user name or password \(https:\/\/sync\.example\.com\/app\)/,
    );
    expect(userinfo).not.toContain('hunter2');
  });

  it('refuses a query other than one valid client_id, and fragments', () => {
    expect(rejected('http://127.0.0.1:8787/?client_id=c1')).toMatch(
      /is a base URL with a query \(\?client_id=c1\)/,
    );
    expect(rejected('ws://h/v1/sync?client_id=c1&mode=x')).toMatch(/unknown query parameter "mode"/);
    expect(rejected('ws://h/v1/sync?client_id=a&client_id=b')).toMatch(/client_id more than once/);
    expect(rejected('ws://127.0.0.1:8787/v1/sync?client_id=<id>')).toMatch(
      /client_id=<id>, which is not a client id .*leave \?client_id=… out: the CLI sends the client id stored in --dir/,
    );
    expect(rejected('ws://h/v1/sync?client_id=')).toMatch(/not a client id/);
    expect(rejected('http://h/app#top')).toMatch(/must not have a fragment \(#top\)/);
  });
});
