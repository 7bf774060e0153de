/** The CLI's view of the process: stdout, stderr, stdin and the environment (a seam for tests). */

import { CLI_NAME } from './constants.ts';

/** Where the CLI writes and reads. */
export interface CliIo {
  /** Writes to stdout; resolves once the text is handed to the OS (before the process may exit). */
  out(text: string): Promise<void>;
  /** Writes one line to stderr (the newline is added). */
  err(line: string): void;
  /** Reads stdin to its end. */
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Resolves once `text` is written to `stream`; a closed pipe (EPIPE, e.g. `| head`) is not an error. */
function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}

/** The real process. */
export function processIo(): CliIo {
  // A reader that went away must not crash the CLI with an unhandled 'error' event.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  return {
    out: (text) => write(process.stdout, text),
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    async readStdin() {
      let text = '';
      process.stdin.setEncoding('utf8');
      for await (const chunk of process.stdin) text += chunk as string;
      return text;
    },
    env: process.env,
  };
}

/** A line on stderr in the CLI's format: `vibestack-client: <message>`. */
export function errLine(message: string): string {
  return `${CLI_NAME}: ${message}`;
}
