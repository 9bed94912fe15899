import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundRatios, scalingCharts, scalingMarkdown, scalingPoint, type ScalingResults } from './scaling-report.js';

const results: ScalingResults = {
  kind: 'scaling',
  date: 'd',
  quick: true,
  rounds: 3,
  host: { node: '20', cpus: 2, kernel: 'k', containerd: 'c', ctr: 'c' },
  series: [
    {
      id: 's',
      title: 'pull',
      xLabel: 'layers',
      unit: 'ms',
      detail: 'detail.',
      charts: ['a.svg'],
      lines: [
        { name: 'containerd', daemon: 'containerd', points: [scalingPoint(1, [10, 20, 30], [5, 6, 7]), scalingPoint(5, [40, 40, 40], [8, 8, 8])] },
        { name: 'ctrd', daemon: 'ctrd', points: [scalingPoint(1, [20, 20, 60], [10, 10, 10]), scalingPoint(5, [], [], 'boom | bad')] },
      ],
    },
  ],
};

test('roundRatios divides round by round over the common length', () => {
  assert.deepEqual(roundRatios([10, 20, 40], [20, 10]), [2, 0.5]);
});

test('scalingMarkdown writes one table row per x with wall times, ratios, CPU and errors', () => {
  const md = scalingMarkdown(results);
  assert.match(md, /### pull\n\ndetail\. Charts: `a\.svg`\./);
  assert.match(md, /\| layers \| containerd ms \| ctrd ms \| ctrd \/ containerd \| CPU ms containerd \| CPU ms ctrd \|/);
  assert.match(md, /\| 1 \| 20\.0 \(10\.0–30\.0\) \| 20\.0 \(20\.0–60\.0\) \| 2\.00 \(1\.00–2\.00\) \| 6\.00 \| 10\.0 \|/);
  assert.match(md, /\| 5 \| 40\.0 \(40\.0–40\.0\) \| – \| – \| 8\.00 \| – \*\*error: boom \/ bad\*\* \|/);
});

test('scalingCharts gives one chart line per series line with medians and spreads', () => {
  const { wall, cpu } = scalingCharts(results.series[0]!);
  assert.equal(wall.xLog, true);
  assert.deepEqual(wall.lines.map((l) => l.name), ['containerd', 'ctrd']);
  assert.deepEqual(wall.lines[0]!.points[0], { x: 1, y: 20, min: 10, max: 30 });
  assert.deepEqual(cpu.lines[1]!.points[0], { x: 1, y: 10, min: 10, max: 10 });
  assert.ok(Number.isNaN(wall.lines[1]!.points[1]!.y));
});
