import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { CONFIG_ENV_NAMES, type ConfigEnvName } from '../config/config-env.ts';
import { ConfigError } from '../config/config-error.ts';

/** Where a Worker setting passed by `npm start` came from. */
export type WorkerVarSource = 'environment' | '.dev.vars';

/** The Worker settings found for `npm start`. */
export interface CollectedWorkerVars {
  /** Name → value of every Worker setting that is set (non-empty), ready for `startWranglerDev({ vars })`. */
  readonly vars: Readonly<Partial<Record<ConfigEnvName, string>>>;
  /** Name → where its value came from. */
  readonly sources: ReadonlyMap<ConfigEnvName, WorkerVarSource>;
  /** Names in the `.dev.vars` file that are no Worker setting (a typo?): not passed. */
  readonly unknownInDevVars: readonly string[];
}

/** Options of {@link collectWorkerVars}. */
export interface CollectWorkerVarsOptions {
  /** The process environment (`process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `server/.dev.vars` (dotenv syntax); a missing file is fine. */
  readonly devVarsFile: string;
  /** How the file is named in messages. Default: `devVarsFile`. */
  readonly devVarsLabel?: string;
}

function readDevVars(file: string, label: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(label, `cannot be read (${(error as Error).message})`);
  }
  const parsed = parseEnv(text);
  return Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * Collects every Worker setting (`CONFIG_ENV_NAMES`, the keys of `ConfigEnv`) that is set, from the process
 * environment and from `server/.dev.vars`. The environment wins over the file; an empty value counts as unset.
 * Only Worker settings are taken from the environment (it holds much else); a name in the file that is no
 * Worker setting is reported, not passed.
 *
 * @throws ConfigError when the file exists but cannot be read.
 * @example
 * const { vars, sources } = collectWorkerVars({ env: process.env, devVarsFile: 'server/.dev.vars' });
 */
export function collectWorkerVars(options: CollectWorkerVarsOptions): CollectedWorkerVars {
  const fromFile = readDevVars(options.devVarsFile, options.devVarsLabel ?? options.devVarsFile);
  const known = new Set<string>(CONFIG_ENV_NAMES);
  const vars: Partial<Record<ConfigEnvName, string>> = {};
  const sources = new Map<ConfigEnvName, WorkerVarSource>();
  for (const name of CONFIG_ENV_NAMES) {
    const fromEnv = options.env[name];
    const value = fromEnv ? fromEnv : fromFile[name];
    if (!value) continue;
    vars[name] = value;
    sources.set(name, fromEnv ? 'environment' : '.dev.vars');
  }
  const unknownInDevVars = Object.keys(fromFile).filter((name) => !known.has(name));
  return { vars, sources, unknownInDevVars };
}

/** Settings `npm start` provides itself when neither the environment nor `.dev.vars` sets them. */
export type StartDefaults = Readonly<
  Pick<Record<ConfigEnvName, string>, 'DATABASE_URL' | 'JWT_SECRET' | 'VIBESTACK_DEV'>
>;

/** What `npm start` passes to the Worker. */
export interface StartWorkerVars {
  readonly vars: Readonly<Record<string, string>>;
  /** One line naming every setting passed and where it came from (names only, never values). */
  readonly summary: string;
}

/**
 * The collected settings plus `npm start`'s own defaults for those that are unset, and a summary for the user.
 *
 * @example
 * startWorkerVars(collected, { DATABASE_URL: url, JWT_SECRET: secret, VIBESTACK_DEV: '1' }).summary
 * // 'Worker settings passed: SYNC_SCOPES (environment); DATABASE_URL, JWT_SECRET, VIBESTACK_DEV (npm start)'
 */
export function startWorkerVars(
  collected: CollectedWorkerVars,
  defaults: StartDefaults,
  devVarsLabel = '.dev.vars',
): StartWorkerVars {
  const bySource = new Map<string, string[]>();
  const add = (source: string, name: string) => bySource.set(source, [...(bySource.get(source) ?? []), name]);
  const vars: Record<string, string> = {};
  for (const name of CONFIG_ENV_NAMES) {
    const value =
      collected.vars[name] ?? (name in defaults ? defaults[name as keyof StartDefaults] : undefined);
    if (value === undefined) continue;
    vars[name] = value;
    const source = collected.sources.get(name);
    add(source === undefined ? 'npm start' : source === '.dev.vars' ? devVarsLabel : source, name);
  }
  const parts = [...bySource].map(([source, names]) => `${names.join(', ')} (${source})`);
  return { vars, summary: `Worker settings passed: ${parts.join('; ')}` };
}
