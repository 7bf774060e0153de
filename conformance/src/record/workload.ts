/**
 * Workload files: plain SQL, run statement by statement as psql would (each statement outside `BEGIN … COMMIT`
 * is its own transaction), with one directive, a line `-- @session NAME` between statements, that runs the
 * following statements on another connection (to interleave transactions). The comment lines at the top of the
 * file describe the workload.
 */

/** One statement of a workload. */
export interface WorkloadStatement {
  /** The statement's text, without the terminating `;`. */
  readonly sql: string;
  /** The 1-based line the statement starts on. */
  readonly line: number;
  /** The connection it runs on: `main` unless a `-- @session` directive chose another. */
  readonly session: string;
}

/** A parsed workload. */
export interface Workload {
  /** The leading comment lines, without `--`, joined with spaces. */
  readonly description: string;
  readonly statements: readonly WorkloadStatement[];
}

/** The session statements run on until a directive names another. */
export const DEFAULT_SESSION = 'main';

const DIRECTIVE = /^--\s*@session\s+([A-Za-z0-9_-]+)\s*$/;
const IDENT_CHAR = /[A-Za-z0-9_$]/;
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/** A workload that cannot be split (an unterminated string, comment or dollar quote; a bad directive). */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
}

function describe(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('--')) break;
    if (DIRECTIVE.test(t)) break;
    const words = t.replace(/^--+/, '').trim();
    if (words) lines.push(words);
  }
  return lines.join(' ');
}

/**
 * Splits a workload into statements at top-level `;`, honouring quotes ('…', E'…', "…"), dollar quotes
 * (`$$…$$`, `$tag$…$tag$`), line comments and nested block comments.
 *
 * @throws WorkloadError for an unterminated quote or comment, or a `-- @session` directive inside a statement.
 * @example
 * parseWorkload('CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);').statements.length // 2
 */
export function parseWorkload(text: string): Workload {
  const statements: WorkloadStatement[] = [];
  let session = DEFAULT_SESSION;
  let start = -1; // offset of the current statement's first token; -1 while between statements
  let line = 1;
  let startLine = 1;
  let i = 0;
  const lineAt = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (text[k] === '\n') line++;
  };
  const skipTo = (end: number) => {
    lineAt(i, end);
    i = end;
  };
  const begin = () => {
    if (start < 0) {
      start = i;
      startLine = line;
    }
  };
  const finish = (end: number) => {
    if (start >= 0) {
      const sql = text.slice(start, end).trim();
      if (sql) statements.push({ sql, line: startLine, session });
    }
    start = -1;
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r') {
      skipTo(i + 1);
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      const comment = text.slice(i, stop).trim();
      const directive = DIRECTIVE.exec(comment);
      if (directive) {
        if (start >= 0) throw new WorkloadError(`line ${line}: @session inside a statement`);
        session = directive[1]!;
      } else if (/^--\s*@/.test(comment)) {
        throw new WorkloadError(`line ${line}: unknown directive ${JSON.stringify(comment)}`);
      }
      skipTo(stop);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      let k = i;
      while (k < text.length) {
        if (text.startsWith('/*', k)) {
          depth++;
          k += 2;
        } else if (text.startsWith('*/', k)) {
          depth--;
          k += 2;
          if (depth === 0) break;
        } else k++;
      }
      if (depth !== 0) throw new WorkloadError(`line ${line}: unterminated block comment`);
      skipTo(k);
    } else if (c === "'" || c === '"') {
      begin();
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !IDENT_CHAR.test(text[i - 2] ?? '');
      let k = i + 1;
      for (;;) {
        if (k >= text.length) throw new WorkloadError(`line ${line}: unterminated ${c} quote`);
        if (escapes && text[k] === '\\') k += 2;
        else if (text[k] === c && text[k + 1] === c) k += 2;
        else if (text[k] === c) break;
        else k++;
      }
      skipTo(k + 1);
    } else if (c === '$' && !IDENT_CHAR.test(text[i - 1] ?? '') && DOLLAR_TAG.test(text.slice(i, i + 64))) {
      begin();
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 64))![0];
      const end = text.indexOf(tag, i + tag.length);
      if (end < 0) throw new WorkloadError(`line ${line}: unterminated dollar quote ${tag}`);
      skipTo(end + tag.length);
    } else if (c === ';') {
      finish(i);
      skipTo(i + 1);
    } else {
      begin();
      skipTo(i + 1);
    }
  }
  finish(text.length);
  return { description: describe(text), statements };
}
