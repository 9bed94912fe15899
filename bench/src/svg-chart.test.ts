import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeXml, formatTick, lineChartSvg, logTicks, niceTicks } from './svg-chart.js';

test('niceTicks covers the range with round steps', () => {
  assert.deepEqual(niceTicks(0, 9.3), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 4200, 4), [0, 2000, 4000, 6000]);
  assert.deepEqual(niceTicks(0, 4200, 2), [0, 2500, 5000]);
  assert.deepEqual(niceTicks(0, 4200, 8), [0, 1000, 2000, 3000, 4000, 5000]);
  assert.deepEqual(niceTicks(0, 0.7), [0, 0.2, 0.4, 0.6, 0.8]);
});

test('logTicks spans whole decades', () => {
  assert.deepEqual(logTicks(100, 10000), [100, 1000, 10000]);
  assert.deepEqual(logTicks(1, 50), [1, 10, 100]);
  assert.deepEqual(logTicks(5, 5), [1, 10]);
});

test('formatTick shortens large values', () => {
  assert.equal(formatTick(10000), '10k');
  assert.equal(formatTick(2_500_000), '2.5M');
  assert.equal(formatTick(0.2), '0.2');
  assert.equal(formatTick(1000), '1000');
});

test('escapeXml escapes markup characters', () => {
  assert.equal(escapeXml('a<b & "c">'), 'a&lt;b &amp; &quot;c&quot;&gt;');
});

const chart = {
  title: 'pull <time>',
  xLabel: 'layers',
  yLabel: 'ms',
  xLog: true,
  width: 600,
  height: 400,
  lines: [
    { name: 'containerd', points: [{ x: 1, y: 100, min: 90, max: 120 }, { x: 10, y: 200 }, { x: 50, y: 400 }] },
    { name: 'ctrd', points: [{ x: 1, y: 150 }, { x: 10, y: NaN }, { x: 50, y: 800 }] },
  ],
};

test('lineChartSvg draws one path per line, a marker per finite point, a legend and escaped text', () => {
  const svg = lineChartSvg(chart);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="600" height="400"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  assert.ok(svg.includes('pull &lt;time&gt;'));
  assert.ok(svg.includes('layers (log scale)'));
  assert.ok(svg.includes('>containerd</text>') && svg.includes('>ctrd</text>'));
  // one whisker, for the only point with a spread
  assert.equal((svg.match(/<line x1="([\d.]+)" y1="[\d.]+" x2="\1" y2="[\d.]+" stroke="#1f77b4"\/>/g) ?? []).length, 1);
});

test('lineChartSvg places points on the log x axis and the linear y axis from 0', () => {
  const svg = lineChartSvg(chart);
  // x axis 1..100 over the plot's 510 px (left margin 70): x=1 at 70, x=10 at 325; y axis 0..800
  // over 305 px (top 40): y=100 at 306.9, y=200 at 268.8.
  assert.ok(svg.includes('<circle cx="70.0" cy="306.9"'), svg);
  assert.ok(svg.includes('<circle cx="325.0" cy="268.8"'));
  for (const label of ['>1<', '>10<', '>100<', '>0<', '>800<']) assert.ok(svg.includes(label), label);
});

test('lineChartSvg refuses non-positive x on a log axis', () => {
  assert.throws(() => lineChartSvg({ ...chart, lines: [{ name: 'a', points: [{ x: 0, y: 1 }] }] }), /positive/);
});
