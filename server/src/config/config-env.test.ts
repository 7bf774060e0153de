import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_NAMES } from './config-env.ts';

const read = (relative: string) => readFileSync(new URL(relative, import.meta.url), 'utf8');

describe('CONFIG_ENV_NAMES', () => {
  it('lists every key of ConfigEnv (npm start passes exactly these)', () => {
    // The compiler already refuses a list that misses a key; this guards the list against a cast or a rewrite.
    const declared = [
      ...read('./config-env.ts').matchAll(/^ {2}readonly ([A-Z][A-Z0-9_]*)\?: string;/gm),
    ].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(10);
    expect([...CONFIG_ENV_NAMES].sort()).toEqual(declared.sort());
  });

  it('are all documented in a settings table of the READMEs', () => {
    const docs = read('../../../README.md') + read('../../README.md');
    const undocumented = CONFIG_ENV_NAMES.filter(
      (name) => !new RegExp(`^\\|[^\\n]*\`${name}\``, 'm').test(docs),
    );
    expect(undocumented).toEqual([]);
  });
});
