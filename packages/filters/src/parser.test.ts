import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { parse, parseAll, objectAdaptor, type Adaptor } from './index.js';

interface Entry {
  name: string;
  other?: string;
  labels?: Record<string, string>;
}

// The corpus of containerd's own filter tests, rebuilt here so results can be compared case by case.
const corpus: Entry[] = [
  { name: 'foo', labels: { foo: 'true' } },
  { name: 'bar' },
  { name: 'foo', labels: { foo: 'present', 'more complex label': 'present' } },
  { name: 'bar', labels: { bar: 'true' } },
  { name: 'fooer', labels: { 'more complex label with \\ and "': 'present' } },
  { name: 'fooer', labels: { 'more complex label with \\ and ".post': 'present' } },
  { name: 'baz', other: 'too complex, yo' },
  { name: 'bazo', other: 'abc' },
  { name: 'compound', labels: { foo: 'omg_asdf.asdf-qwer' } },
];

const adapt = (e: Entry): Adaptor => objectAdaptor({ name: e.name, other: e.other, labels: e.labels });

function selected(filter: { match(a: Adaptor): boolean }): number[] {
  return corpus.flatMap((e, i) => (filter.match(adapt(e)) ? [i] : []));
}

const all = corpus.map((_, i) => i);

const matching: Array<[string, string, number[]]> = [
  ['empty', '', all],
  ['presence', 'name', all],
  ['label presence', 'labels.foo', [0, 2, 8]],
  ['label and name presence', 'labels.foo,name', [0, 2, 8]],
  ['label value', 'labels.foo==true', [0]],
  ['punctuated bare value', 'labels.foo==omg_asdf.asdf-qwer', [8]],
  ['name', 'name==bar', [1, 3]],
  ['name not equal', 'name!=bar', [0, 2, 4, 5, 6, 7, 8]],
  ['name and label presence', 'name==bar,labels.bar', [3]],
  ['quoted value with a comma', 'other=="too complex, yo"', [6]],
  ['regexp value', 'other~=[abc]+,name!=foo', [6, 7]],
  ['slash-quoted regexp', 'other~=/[abc]+/,name!=foo', [6, 7]],
  ['slash-quoted regexp with a comma', 'other~=/[abc]{1,2}/,name!=foo', [6, 7]],
  ['pipe-quoted regexp', 'other~=|[abc]{1,2}|,name!=foo', [6, 7]],
  ['regexp garbage that matches nothing', 'other~=/[abc]{0,1}"\\//,name!=foo', []],
  ['name and label value', 'name==bar,labels.bar==true', [3]],
  ['name and label value, no match', 'name==bar,labels.bar==wrong', []],
  ['quoted field path', 'name==foo,labels."more complex label"', [2]],
  ['quoted field path with escapes', 'labels."more complex label with \\\\ and \\""==present', [4]],
  ['quoted field path followed by a field', 'labels."more complex label with \\\\ and \\"".post==present', [5]],
  ['dotted label key, quoted', 'labels."foo"==true', [0]],
  ['regexp anchored at the start', 'name~=^f', [0, 2, 4, 5]],
  ['regexp anchored at both ends', 'name~=^ba.$', [1, 3, 6]],
  ['case-insensitive regexp', 'name~=(?i)^FOO$', [0, 2]],
  ['absent field != compares as empty', 'labels.bar!=true', [0, 1, 2, 4, 5, 6, 7, 8]],
  ['absent field ~= compares as empty', 'labels.bar~=^$', [0, 1, 2, 4, 5, 6, 7, 8]],
  ['absent field == never matches', 'other==""', []],
  ['spaces between tokens', ' name == bar , labels.bar ', [3]],
  ['quoted value with escapes', 'name=="f\\x6fo"', [0, 2]],
];

for (const [name, input, want] of matching) {
  test(`parse: ${name}: ${input}`, () => {
    assert.deepEqual(selected(parse(input)), want);
  });
}

const errors: Array<[string, string, string]> = [
  ['alternative quotes in a field', 'labels.|foo|==omg_asdf.asdf-qwer',
    'filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote encountered'],
  ['stray character in a field path', 'labels.?"more complex label with \\\\ and \\"".post==present',
    'filters: parse error: [labels. >|?|< "more complex label with \\\\ and \\"".post==present]: expected field or quoted'],
  ['trailing comma', 'name==foo,', 'filters: parse error: [name==foo,]: expected field or quoted'],
  ['trailing field separator', 'labels.', 'filters: parse error: [labels.]: expected field or quoted'],
  ['missing value', 'image~=,id?=?fbaq', 'filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted'],
  ['slash in a field starts an unterminated quote', 'labels.ns/key==value',
    'filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated'],
  ['slash-quoted value not terminated', 'labels.key==/value',
    'filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated'],
  ['value missing at the end', 'name==', 'filters: parse error: [name==]: expected value or quoted'],
  ['field missing', '==foo', 'filters: parse error: [ >|=|< =foo]: expected field or quoted'],
  ['single equals', 'name=foo', 'filters: parse error: [name >|=|< foo]: unsupported operator "="'],
  ['triple equals', 'name===foo', 'filters: parse error: [name >|=|< ==foo]: unsupported operator "==="'],
  ['double-quoted value not terminated', 'name=="foo', 'filters: parse error: [name== >|"|< foo]: quoted literal not terminated'],
  ['quoted field not terminated', 'labels."foo==bar', 'filters: parse error: [labels. >|"|< foo==bar]: quoted literal not terminated'],
  ['newline inside quotes', 'labels."containerd.io\nkey"==value',
    'filters: parse error: [labels. >|"|< containerd.io\nkey"==value]: quoted literal not terminated'],
  ['illegal escape', 'labels."\\g"', 'filters: parse error: [labels. >|"|< \\g"]: illegal escape sequence'],
  ['illegal numeric escape', 'labels."\\xaz"', 'filters: parse error: [labels. >|"|< \\xaz"]: illegal numeric escape sequence'],
  ['alternative quotes for ==', 'name==/foo/', 'filters: parse error: [name== >|/|< foo/]: invalid quote encountered'],
  ['two values', 'name==foo bar', 'filters: parse error: [name==foo  >|b|< ar]: unexpected input: bar'],
  ['null byte', 'foo\0bar', 'filters: parse error: [foo >|\0|< bar]: unexpected null'],
  ['value cannot start with a separator', 'name==.foo', 'filters: parse error: [name== >|.|< foo]: expected value or quoted'],
  ['operator without a field path', 'name.==x', 'filters: parse error: [name. >|=|< =x]: expected field or quoted'],
  ['octal escape out of range', 'name=="\\777"', 'filters: parse error: [name== >|"|< \\777"]: unquoting failed: quote syntax error'],
];

for (const [name, input, message] of errors) {
  test(`parse error: ${name}`, () => {
    assert.throws(
      () => parse(input),
      (err: unknown) => {
        assert.ok(isInvalidArgument(err), `not InvalidArgument: ${String(err)}`);
        assert.equal((err as Error).message, message);
        return true;
      },
    );
  });
}

const badRegexps = ['[abc', '(?=x)', 'a(?i)b', 'a**', '\\1', 'x{1001}', '(?U)a', 'a\\'];
for (const re of badRegexps) {
  test(`parse rejects the regexp ${re}`, () => {
    assert.throws(
      // Inside |…| a backslash is a quote escape, so the regexp's own backslashes are doubled.
      () => parse(`name~=|${re.replace(/\\/g, '\\\\')}|`),
      (err: unknown) =>
        isInvalidArgument(err) &&
        (err as Error).message.startsWith('filters: parse error: [name~= >|||< ') &&
        (err as Error).message.includes(`invalid regular expression ${JSON.stringify(re)}`),
    );
  });
}

test('parseAll ORs its strings', () => {
  assert.deepEqual(selected(parseAll(['name==bar', 'labels.foo==true'])), [0, 1, 3]);
  assert.deepEqual(selected(parseAll(['name==nothing', 'name==other'])), []);
});

test('parseAll with no strings or an empty string selects everything', () => {
  assert.deepEqual(selected(parseAll([])), all);
  assert.deepEqual(selected(parseAll([''])), all);
  assert.deepEqual(selected(parseAll(['name==bar', ''])), all);
});

test('parseAll fails on any bad string', () => {
  assert.throws(() => parseAll(['name==bar', 'name=']), (err: unknown) => isInvalidArgument(err));
});

test('a selector sees the exact field path it names', () => {
  const seen: string[][] = [];
  const filter = parse('labels."a.b".c==x,target.digest,"quoted field"==y');
  filter.match((fp) => {
    seen.push([...fp]);
    return fp[0] === 'labels' ? 'x' : fp[0] === 'target' ? 'd' : 'y';
  });
  assert.deepEqual(seen, [['labels', 'a.b', 'c'], ['target', 'digest'], ['quoted field']]);
});

test('a multi-byte value is scanned whole', () => {
  const f = parse('name~=牛,labels.moo==true');
  assert.equal(f.match(objectAdaptor({ name: 'a 牛 b', labels: { moo: 'true' } })), true);
  assert.equal(f.match(objectAdaptor({ name: 'cow', labels: { moo: 'true' } })), false);
});

test('bare regexp values keep their backslashes', () => {
  const f = parse('name~=^docker\\.io/');
  assert.equal(f.match(objectAdaptor({ name: 'docker.io/library/busybox:latest' })), true);
  assert.equal(f.match(objectAdaptor({ name: 'dockerXio/library/busybox:latest' })), false);
});
