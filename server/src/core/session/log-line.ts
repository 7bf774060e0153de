/**
 * Log lines that carry text a client chose (its `Error.message`, mostly) are a way to forge or flood the server's
 * logs: newlines start fake entries, ANSI escapes rewrite a terminal, bidi controls reorder what an operator
 * reads, and a client may send a 64 MiB message once per frame. Every line a session logs goes through
 * {@link safeLogText} (at most 1 KiB, control characters escaped), and client-triggered lines through a
 * per-connection {@link LogRateLimiter}.
 */

import { MAX_ERROR_MESSAGE_BYTES } from '@vibestack/proto';
import { truncateUtf8 } from './error-frame.ts';

/** The most UTF-8 bytes of client-chosen text in one log line (the protocol's message limit, §13). */
export const MAX_LOGGED_TEXT_BYTES = MAX_ERROR_MESSAGE_BYTES;

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional formatting characters
 * (RFC 9839 "problematic" code points that change how a log line reads).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;

const escapeChar = (ch: string): string => {
  if (ch === '\\') return '\\\\';
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
};

/**
 * `text` made safe for one log line: cut to `maxBytes` of UTF-8 (marked with `…` when cut) and every control,
 * separator or bidi character (and the backslash, so the escapes stay unambiguous) written as an escape.
 * Works in time proportional to `maxBytes`, not to the length of `text`.
 */
export function safeLogText(text: string, maxBytes = MAX_LOGGED_TEXT_BYTES): string {
  // A UTF-16 code unit is at least one UTF-8 byte: nothing past `maxBytes` code units can survive the cut.
  const head = text.length > maxBytes ? text.slice(0, maxBytes) : text;
  const cut = truncateUtf8(head, maxBytes);
  const truncated = cut.length < text.length;
  return `${cut.replace(UNSAFE, escapeChar)}${truncated ? '…' : ''}`;
}

/** Options of {@link LogRateLimiter}. */
export interface LogRateLimit {
  /** Lines allowed at once. */
  readonly burst: number;
  /** One more line is allowed per this many milliseconds. */
  readonly refillMs: number;
}

/** Client-triggered log lines per connection: a burst of 5, then one every 10 s. */
export const CLIENT_LOG_RATE: LogRateLimit = { burst: 5, refillMs: 10_000 };

/** A token bucket for log lines, with a count of what it held back. */
export class LogRateLimiter {
  readonly #limit: LogRateLimit;
  #tokens: number;
  #refilledAt: number | undefined;
  #suppressed = 0;

  constructor(limit: LogRateLimit = CLIENT_LOG_RATE) {
    this.#limit = limit;
    this.#tokens = limit.burst;
  }

  /**
   * Whether a line may be logged at `now` (ms). When it may, returns how many lines were held back since the
   * last one that was logged (to mention in it); otherwise `undefined`.
   */
  take(now: number): number | undefined {
    if (this.#refilledAt === undefined) this.#refilledAt = now;
    const earned = Math.floor((now - this.#refilledAt) / this.#limit.refillMs);
    if (earned > 0) {
      this.#tokens = Math.min(this.#limit.burst, this.#tokens + earned);
      this.#refilledAt += earned * this.#limit.refillMs;
    }
    if (this.#tokens === 0) {
      this.#suppressed++;
      return undefined;
    }
    this.#tokens--;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
