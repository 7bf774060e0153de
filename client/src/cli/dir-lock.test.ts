import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CliError } from './cli-error.ts';
import { LOCK_FILE, PG_VERSION_FILE } from './constants.ts';
import { isDatabaseDirectory, isUsableForSync, lockDirectory } from './dir-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vibestack-cli-lock-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('holds the directory until released', async () => {
  const lock = await lockDirectory(dir);
  expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
  expect(await readdir(dir)).toEqual([LOCK_FILE]); // no temporary file left behind
  await lock.release();
  expect(await readdir(dir)).toEqual([]);
  await (await lockDirectory(dir)).release();
});

it('refuses a directory locked by a live process, naming it', async () => {
  await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`);
  const error = await lockDirectory(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).message).toContain(`in use by process ${process.ppid}`);
  expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.ppid}\n`);
});

it('takes over a lock whose process is gone, or that is unreadable', async () => {
  for (const content of ['2147483646\n', 'garbage']) {
    await writeFile(join(dir, LOCK_FILE), content);
    const lock = await lockDirectory(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  }
});

it('tells database directories and empty ones from others', async () => {
  expect(await isDatabaseDirectory(dir)).toBe(false);
  expect(await isUsableForSync(dir)).toBe(true);
  await writeFile(join(dir, LOCK_FILE), '1\n');
  expect(await isUsableForSync(dir)).toBe(true);
  await writeFile(join(dir, 'notes.txt'), 'mine');
  expect(await isUsableForSync(dir)).toBe(false);
  await writeFile(join(dir, PG_VERSION_FILE), '17\n');
  expect(await isDatabaseDirectory(dir)).toBe(true);
  expect(await isUsableForSync(dir)).toBe(true);
});
