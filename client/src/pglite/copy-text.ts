/**
 * Rows in COPY text format (tab-separated, `\N` for NULL, backslash escapes): the bulk path into staging tables,
 * loaded with `COPY … FROM '/dev/blob'` (PGlite reads the blob passed with the query).
 */

import type { TextRow } from '../core/client-types.ts';

const SPECIAL = /[\\\t\n\r]/;

function escapeCopy(value: string | null): string {
  if (value === null) return '\\N';
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** The COPY text of `rows` (every row the same length), one line per row. */
export function copyText(rows: readonly TextRow[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = rows[i]!.map(escapeCopy).join('\t');
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
