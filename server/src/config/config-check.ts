/**
 * The Worker's configuration check: loads the configuration once per environment and remembers a
 * misconfiguration, which is logged once per isolate (not per request) and answered on every route.
 */

import type { ConfigEnv } from './config-env.ts';
import { ConfigError, isConfigError } from './config-error.ts';
import { loadServerConfig, type ServerConfig } from './server-config.ts';

/** The configuration, or why there is none. */
export type ConfigCheck =
  | { readonly ok: true; readonly config: ServerConfig }
  | { readonly ok: false; readonly error: ConfigError };

const checked = new WeakMap<object, ConfigCheck>();
const logged = new Set<string>();

/** Loads `env`'s configuration; any failure comes back as a {@link ConfigError} (never thrown). */
export function tryLoadServerConfig(env: ConfigEnv): ConfigCheck {
  try {
    return { ok: true, config: loadServerConfig(env) };
  } catch (error) {
    if (isConfigError(error)) return { ok: false, error };
    // Every check should throw ConfigError; anything else still becomes one line, without a stack.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new ConfigError('configuration', message, { cause: error }) };
  }
}

/**
 * {@link tryLoadServerConfig}, cached per environment object (workerd passes the same one to every request of
 * an isolate). A misconfiguration is reported to `log` the first time this isolate sees it.
 */
export function checkServerConfig(
  env: ConfigEnv,
  log: (line: string) => void = (line) => console.error(line),
): ConfigCheck {
  let check = checked.get(env);
  if (!check) {
    check = tryLoadServerConfig(env);
    checked.set(env, check);
  }
  if (!check.ok && !logged.has(check.error.message)) {
    logged.add(check.error.message);
    log(`[vibestack] misconfigured, every request is refused with 503: ${check.error.message}`);
  }
  return check;
}
