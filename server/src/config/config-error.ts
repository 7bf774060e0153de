/**
 * The one error type of the server's configuration: a setting (an environment variable, or a file such as
 * `server/.dev.vars`) and what is wrong with it, as one line that names the setting and never contains a secret.
 */

/** Longest value excerpt a message quotes (values are shown only for settings that are not secret). */
const MAX_SHOWN_CHARS = 60;

/** Longest message; anything longer is cut (a message is meant for one log line). */
const MAX_MESSAGE_CHARS = 400;

/** Collapses whitespace and control characters, so that a message stays on one line. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…` : flat;
}

/**
 * A value of a non-secret setting as a message quotes it: JSON-quoted, cut after 60 characters. Never call it
 * with `DATABASE_URL`, `JWT_SECRET` or a token.
 */
export function shownValue(value: string): string {
  return JSON.stringify(value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value);
}

/**
 * A malformed setting. `message` is `<setting>: <problem>` on one line, e.g.
 * `SYNC_SCOPES: entry 2 (public.tasks): "rule.kind" must be "shared" or "claim", got "owner"`.
 *
 * @example
 * throw new ConfigError('LOG_RETENTION_MS', `must be a positive integer, got ${shownValue(value)}`);
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The setting at fault: an environment variable name or a file. */
  readonly setting: string;
  /** What is wrong with it, without the setting's name. */
  readonly problem: string;

  constructor(setting: string, problem: string, options?: { cause?: unknown }) {
    super(oneLine(`${setting}: ${problem}`), options);
    this.setting = setting;
    this.problem = oneLine(problem);
  }
}

/** Type guard for {@link ConfigError}. */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
