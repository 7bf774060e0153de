/**
 * What a run prints and writes: one line per case, the summary line, and the JUnit XML and JSON reports.
 */

import type { CaseResult, CaseVerdict } from './run-suites.ts';

const LABEL: Record<CaseVerdict, string> = {
  passed: 'PASS ',
  failed: 'FAIL ',
  skipped: 'SKIP ',
  'known-failing': 'XFAIL',
  'unexpected-pass': 'XPASS',
};

/** How many log lines of a failed case are shown. */
const SHOWN_LOG_LINES = 40;

/** The lines printed for a case: its verdict, and for a failure its reasons and the end of its log. */
export function caseLines(result: CaseResult, showLog: boolean): string[] {
  const lines = [`${LABEL[result.verdict]} ${result.name} (${result.durationMs} ms)`];
  const indent = (text: string) => text.split('\n').map((l) => `      ${l}`);
  if (result.verdict === 'unexpected-pass') {
    lines.push(...indent('listed as known failing, but it passed: remove it from the list'));
  }
  if (result.verdict !== 'passed') for (const m of result.messages) lines.push(...indent(m));
  if (showLog && result.verdict === 'failed' && result.log.length > 0) {
    lines.push('      --- log (last lines) ---');
    for (const l of result.log.slice(-SHOWN_LOG_LINES)) lines.push(`      ${l}`);
  }
  return lines;
}

/** The summary line: `N passed, N failed` plus skipped and known-failing counts when there are any. */
export function summaryLine(results: readonly CaseResult[]): string {
  const count = (...v: CaseVerdict[]) => results.filter((r) => v.includes(r.verdict)).length;
  const parts = [`${count('passed')} passed`, `${count('failed', 'unexpected-pass')} failed`];
  const skipped = count('skipped');
  const known = count('known-failing');
  if (skipped > 0) parts.push(`${skipped} skipped`);
  if (known > 0) parts.push(`${known} known failing`);
  return parts.join(', ');
}

const ENTITIES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' };

/** Text for XML: markup characters escaped, control characters XML 1.0 cannot hold dropped. */
function xml(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') continue;
    out += ENTITIES[c] ?? c;
  }
  return out;
}

/** A JUnit XML report: one `testsuite` per suite, one `testcase` per case. */
export function junitReport(results: readonly CaseResult[]): string {
  const suites = new Map<string, CaseResult[]>();
  for (const r of results) suites.set(r.suite, [...(suites.get(r.suite) ?? []), r]);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="vibestack-conformance">'];
  for (const [suite, cases] of suites) {
    const failures = cases.filter((c) => c.verdict === 'failed' || c.verdict === 'unexpected-pass').length;
    const skipped = cases.filter((c) => c.verdict === 'skipped' || c.verdict === 'known-failing').length;
    const time = cases.reduce((t, c) => t + c.durationMs, 0) / 1000;
    out.push(
      `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${time}">`,
    );
    for (const c of cases) {
      const name = c.name.slice(suite.length + 1);
      out.push(`    <testcase classname="${xml(suite)}" name="${xml(name)}" time="${c.durationMs / 1000}">`);
      const message = xml(c.messages.join('\n'));
      if (c.verdict === 'failed') {
        out.push(`      <failure message="${message}">${xml(c.log.join('\n'))}</failure>`);
      } else if (c.verdict === 'unexpected-pass') {
        out.push('      <failure message="listed as known failing, but it passed"/>');
      } else if (c.verdict === 'skipped' || c.verdict === 'known-failing') {
        out.push(
          `      <skipped message="${c.verdict === 'known-failing' ? 'known failing: ' : ''}${message}"/>`,
        );
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** A JSON report: the summary and every case with its verdict, reasons and duration. */
export function jsonReport(results: readonly CaseResult[]): string {
  return `${JSON.stringify(
    {
      summary: summaryLine(results),
      cases: results.map((r) => ({
        name: r.name,
        verdict: r.verdict,
        durationMs: r.durationMs,
        messages: r.messages,
      })),
    },
    null,
    2,
  )}\n`;
}
