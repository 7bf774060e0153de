import { describe, expect, it } from 'vitest';
import { caseLines, jsonReport, junitReport, summaryLine } from './reports.ts';
import { parseRunArgs } from './run-command.ts';
import type { CaseResult, CaseVerdict } from './run-suites.ts';

const result = (name: string, verdict: CaseVerdict, messages: string[] = []): CaseResult => ({
  name,
  suite: name.split('/')[0]!,
  verdict,
  status:
    verdict === 'passed' || verdict === 'unexpected-pass'
      ? 'passed'
      : verdict === 'skipped'
        ? 'skipped'
        : 'failed',
  messages,
  durationMs: 12,
  adapterBroken: false,
  log: ['[server] a <line>'],
});

describe('reports', () => {
  const results = [
    result('live/a', 'passed'),
    result('live/b', 'failed', ['state differs: "x" < "y"']),
    result('frames/c', 'known-failing', ['boom']),
    result('frames/d', 'unexpected-pass'),
    result('frames/e', 'skipped', ['no feature']),
  ];

  it('summarises as "N passed, N failed" (an unexpected pass counts as failed)', () => {
    expect(summaryLine(results)).toBe('1 passed, 2 failed, 1 skipped, 1 known failing');
    expect(summaryLine([result('a/b', 'passed')])).toBe('1 passed, 0 failed');
  });

  it('prints a line per case, with reasons and the log of failures', () => {
    expect(caseLines(results[0]!, true)).toEqual(['PASS  live/a (12 ms)']);
    expect(caseLines(results[1]!, true)).toEqual([
      'FAIL  live/b (12 ms)',
      '      state differs: "x" < "y"',
      '      --- log (last lines) ---',
      '      [server] a <line>',
    ]);
    expect(caseLines(results[3]!, false)[1]).toMatch(/known failing, but it passed/);
  });

  it('writes JUnit XML with escaped text, and JSON', () => {
    const xml = junitReport(results);
    expect(xml).toContain('<testsuite name="live" tests="2" failures="1" skipped="0"');
    expect(xml).toContain('<failure message="state differs: &quot;x&quot; &lt; &quot;y&quot;">');
    expect(xml).toContain('<testsuite name="frames" tests="3" failures="1" skipped="2"');
    const json = JSON.parse(jsonReport(results)) as { summary: string; cases: unknown[] };
    expect(json.cases).toHaveLength(5);
    expect(json.summary).toBe(summaryLine(results));
  });
});

describe('run arguments', () => {
  it('parses every option, repeatable ones included', () => {
    expect(
      parseRunArgs([
        '--client',
        'node a.js',
        '--suite',
        'x',
        '--suite=y',
        '--run',
        'live/*',
        '--skip',
        'frames/*',
        '--known-failing',
        'k.txt',
        '--junit',
        'j.xml',
        '--json',
        'r.json',
        '--trace',
        '--parallel',
        '3',
      ]),
    ).toEqual({
      client: 'node a.js',
      suites: ['x', 'y'],
      run: ['live/*'],
      skip: ['frames/*'],
      knownFailing: 'k.txt',
      junit: 'j.xml',
      json: 'r.json',
      trace: true,
      parallel: 3,
    });
  });

  it('refuses a missing client, unknown options and bad numbers', () => {
    expect(() => parseRunArgs([])).toThrow(/--client is required/);
    expect(() => parseRunArgs(['--client', 'x', '--bogus'])).toThrow(/unknown option/);
    expect(() => parseRunArgs(['--client', 'x', '--parallel', '0'])).toThrow(/--parallel/);
    expect(() => parseRunArgs(['--client'])).toThrow(/needs a value/);
  });
});
