import { describe, expect, it } from 'vitest';
import { socketUrl } from './sync-client.ts';

describe('socketUrl', () => {
  it.each([
    ['http://127.0.0.1:8787', 'ws://127.0.0.1:8787/v1/sync?client_id=c1'],
    ['https://sync.example.com/', 'wss://sync.example.com/v1/sync?client_id=c1'],
    ['https://example.com/app', 'wss://example.com/app/v1/sync?client_id=c1'],
    ['ws://127.0.0.1:9000/cases/7/', 'ws://127.0.0.1:9000/cases/7/v1/sync?client_id=c1'],
    ['wss://example.com/app?x=1', 'wss://example.com/app/v1/sync?client_id=c1'],
  ])('%s → %s', (base, expected) => {
    expect(socketUrl(base, 'c1')).toBe(expected);
  });
});
