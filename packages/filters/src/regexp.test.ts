import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGoRegexp } from './index.js';

// [Go regexp, subject, whether Go's MatchString is true]
const cases: Array<[string, string, boolean]> = [
  ['^foo$', 'foo', true],
  ['^foo$', 'foox', false],
  ['(?i)^FOO', 'foobar', true],
  ['(?s)a.b', 'a\nb', true],
  ['a.b', 'a\nb', false],
  ['a.b', 'a\rb', true], // Go's dot only excludes \n
  ['(?m)^b$', 'a\nb\nc', true],
  ['^b$', 'a\nb\nc', false],
  ['(?P<word>\\w+)-\\d', 'abc-1', true],
  ['\\Afoo\\z', 'foo', true],
  ['(?m)\\Afoo\\z', 'x\nfoo', false],
  ['\\Qa.b*c\\E$', 'xa.b*c', true],
  ['\\Qa.b*c\\E$', 'xaXbbc', false],
  ['^[[:alpha:]]+[[:digit:]]$', 'abc1', true],
  ['^[[:alpha:]]+[[:digit:]]$', 'ab1c', false],
  ['^[[:xdigit:][:punct:]]+$', 'ff:00-aa', true],
  ['^\\pL+$', 'héllo', true],
  ['^\\p{Greek}+$', 'αβγ', true],
  ['^\\p{Greek}+$', 'abc', false],
  ['^\\PL+$', '123', true],
  ['^\\p{^L}+$', '123', true],
  ['\\x{263a}', 'smile ☺', true],
  ['\\x41', 'A', true],
  ['\\101', 'A', true],
  ['a\\-b\\#c\\ d', 'a-b#c d', true],
  ['[\\-x]', '-', true],
  ['a{', 'a{', true],
  ['a{,2}', 'a{,2}', true],
  ['x{2,3}$', 'xxx', true],
  ['^x{2}$', 'xxx', false],
  ['[]a]', ']', true],
  ['[^]a]', ']', false],
  ['a]b', 'a]b', true],
  ['^\\s$', ' ', true],
  ['^\\s$', '\v', false], // Go's \s is [\t\n\f\r ]
  ['^[\\S]$', '\v', true],
  ['\\bfoo\\b', 'a foo b', true],
  ['\\a', '\x07', true],
  ['[a/b]', '/', true],
  ['a|b', 'b', true],
];

for (const [re, subject, want] of cases) {
  test(`Go regexp ${re} on ${JSON.stringify(subject)}`, () => {
    assert.equal(compileGoRegexp(re).test(subject), want);
  });
}

const rejected = ['(?=x)', '(?<!x)', '\\1', '\\8', '(?i:a)', 'a(?m)', '(?U)a', '[[:^alpha:]]', '[[:foo:]]', '\\p{Nope}', 'x{1001}', 'x{3,2}', '[a', '\\', '\\Z', '\\e', 'a**'];
for (const re of rejected) {
  test(`Go regexp ${re} is rejected`, () => {
    assert.throws(() => compileGoRegexp(re));
  });
}

test('a compiled regexp is not stateful', () => {
  const re = compileGoRegexp('foo');
  assert.equal(re.test('foo'), true);
  assert.equal(re.test('foo'), true);
  assert.equal(re.global, false);
});
