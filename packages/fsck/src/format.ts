import type { FsckReport } from './types.js';

/**
 * formatReport renders a report as text (one finding a line, `info` only when `verbose`, then a
 * summary) or as JSON (the whole report).
 */
export function formatReport(report: FsckReport, format: 'text' | 'json' = 'text', verbose = false): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const lines: string[] = [];
  for (const f of report.findings) {
    if (f.severity === 'info' && !verbose) continue;
    lines.push(`${f.severity.toUpperCase()} ${f.check} ${f.code}: ${f.subject}: ${f.message}${f.repaired ? ' (repaired)' : ''}`);
  }
  const counts = Object.entries(report.checked).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing';
  const infos = report.findings.filter((f) => f.severity === 'info').length;
  lines.push(`checked ${counts} in ${report.durationMs} ms: ${report.errors} errors, ${report.warnings} warnings, ${infos} notes`);
  return `${lines.join('\n')}\n`;
}
