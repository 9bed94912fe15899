/** ChartPoint is one measured point: the median and, optionally, the spread drawn as a whisker. */
export interface ChartPoint {
  x: number;
  y: number;
  min?: number;
  max?: number;
}

/** ChartLine is one series of points, drawn as one coloured line with markers. */
export interface ChartLine {
  name: string;
  points: ChartPoint[];
}

/** LineChart describes a chart for {@link lineChartSvg}. */
export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: ChartLine[];
  /** a logarithmic (base 10) x axis; every x must then be positive. */
  xLog?: boolean;
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/** escapeXml makes text safe inside an SVG element or attribute. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * niceTicks returns round tick values (steps of 1, 2, 2.5 or 5 × 10^k) from 0 or below `lo` up to at
 * least `hi`, about `count` of them.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let v = first; v < hi + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** logTicks returns the powers of ten spanning [lo, hi] (both positive), widened to whole decades. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  return Array.from({ length: b - a + 1 }, (_, i) => 10 ** (a + i));
}

/** formatTick writes a tick value briefly: 10000 as 10k, 2500000 as 2.5M. */
export function formatTick(v: number): string {
  const abs = Math.abs(v);
  const short = (x: number) => String(Number(x.toPrecision(3)));
  if (abs >= 1e6) return `${short(v / 1e6)}M`;
  if (abs >= 1e4) return `${short(v / 1e3)}k`;
  return short(v);
}

const f = (n: number) => n.toFixed(1);

/**
 * lineChartSvg renders a line chart as a standalone SVG document: axes with ticks, labels and
 * grid lines, one line per series (colour and dash differ), min–max whiskers where given and a
 * legend. The y axis is linear from 0; the x axis linear or logarithmic.
 */
export function lineChartSvg(c: LineChart): string {
  const width = c.width ?? 640;
  const height = c.height ?? 400;
  const m = { left: 70, right: 20, top: 40, bottom: 55 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const pts = c.lines.flatMap((l) => l.points).filter((p) => Number.isFinite(p.y));
  const xs = pts.map((p) => p.x);
  if (c.xLog && xs.some((x) => !(x > 0))) throw new Error('lineChartSvg: a log x axis needs positive x values');
  const xMin = xs.length ? Math.min(...xs) : 1;
  const xMax = xs.length ? Math.max(...xs) : 10;
  const yMax = pts.length ? Math.max(...pts.map((p) => Math.max(p.y, p.max ?? p.y))) : 1;

  const xTicks = c.xLog ? logTicks(xMin, xMax) : niceTicks(Math.min(0, xMin), xMax);
  const yTicks = niceTicks(0, yMax > 0 ? yMax : 1);
  const [x0, x1] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
  const y1 = yTicks[yTicks.length - 1]!;
  const tx = c.xLog ? (x: number) => Math.log10(x) : (x: number) => x;
  const sx = (x: number) => m.left + ((tx(x) - tx(x0)) / (tx(x1) - tx(x0) || 1)) * pw;
  const sy = (y: number) => m.top + ph - (y / y1) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(c.title)}</text>`);
  for (const t of yTicks) {
    const y = f(sy(t));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = f(sx(t));
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="black"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="black"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(c.xLabel)}${c.xLog ? ' (log scale)' : ''}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(c.yLabel)}</text>`);

  c.lines.forEach((line, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const dash = DASHES[i % DASHES.length]!;
    const ok = line.points.filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    const cls = `series-${i}`;
    out.push(`<g class="${cls}" data-name="${escapeXml(line.name)}">`);
    if (ok.length > 1) {
      const d = ok.map((p, j) => `${j ? 'L' : 'M'}${f(sx(p.x))} ${f(sy(p.y))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    }
    for (const p of ok) {
      const [px, py] = [f(sx(p.x)), f(sy(p.y))];
      if (p.min !== undefined && p.max !== undefined) {
        out.push(`<line x1="${px}" y1="${f(sy(p.min))}" x2="${px}" y2="${f(sy(p.max))}" stroke="${colour}"/>`);
      }
      out.push(`<circle cx="${px}" cy="${py}" r="3.5" fill="${colour}"><title>${escapeXml(`${line.name}: x=${p.x}, y=${formatTick(p.y)}`)}</title></circle>`);
    }
    out.push('</g>');
  });

  // The legend sits in the top left corner of the plot, where lines rising to the right leave room.
  const lx = m.left + 12;
  const legendWidth = 40 + 7 * Math.max(0, ...c.lines.map((l) => l.name.length));
  out.push(`<rect x="${lx - 6}" y="${m.top + 4}" width="${legendWidth}" height="${c.lines.length * 18 + 4}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`);
  c.lines.forEach((line, i) => {
    const ly = m.top + 14 + i * 18;
    const colour = COLOURS[i % COLOURS.length]!;
    const dash = DASHES[i % DASHES.length]!;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(line.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
