import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scanner, type TokenKind } from './scanner.js';
import { unquote } from './quote.js';

/** Scans `input` to the end; `values` lists the token indexes at which the parser would expect a value. */
function tokens(input: string, values: number[] = []): Array<[TokenKind, number, string]> {
  const s = new Scanner(input);
  const out: Array<[TokenKind, number, string]> = [];
  for (let i = 0; ; i++) {
    const t = s.scan(values.includes(i));
    out.push([t.kind, t.pos, t.text]);
    if (t.kind === 'eof') return out;
    assert.ok(i < 100, 'scanner does not terminate');
  }
}

test('selectors with operators and field paths', () => {
  assert.deepEqual(tokens('name==value,labels.foo~=match', [2, 8]), [
    ['field', 0, 'name'], ['operator', 4, '=='], ['value', 6, 'value'], ['separator', 11, ','],
    ['field', 12, 'labels'], ['separator', 18, '.'], ['field', 19, 'foo'], ['operator', 22, '~='],
    ['value', 24, 'match'], ['eof', 29, ''],
  ]);
});

test('a value runs to a comma or a space, punctuation included', () => {
  assert.deepEqual(tokens('compound.labels==punctuated_value.foo-bar', [4]), [
    ['field', 0, 'compound'], ['separator', 8, '.'], ['field', 9, 'labels'], ['operator', 15, '=='],
    ['value', 17, 'punctuated_value.foo-bar'], ['eof', 41, ''],
  ]);
  assert.deepEqual(tokens('name~=[abc]\\+,x', [2]), [
    ['field', 0, 'name'], ['operator', 4, '~='], ['value', 6, '[abc]\\+'], ['separator', 13, ','],
    ['field', 14, 'x'], ['eof', 15, ''],
  ]);
});

test('quoted literals keep their quotes and escapes', () => {
  assert.deepEqual(tokens('input~=/foo\\/bar/,"leading quote".x', [2]), [
    ['field', 0, 'input'], ['operator', 5, '~='], ['quoted', 7, '/foo\\/bar/'], ['separator', 17, ','],
    ['quoted', 18, '"leading quote"'], ['separator', 33, '.'], ['field', 34, 'x'], ['eof', 35, ''],
  ]);
});

test('spaces are skipped and a missing value is a separator', () => {
  assert.deepEqual(tokens('foo = bar    ', [2]), [
    ['field', 0, 'foo'], ['operator', 4, '='], ['value', 6, 'bar'], ['eof', 13, ''],
  ]);
  assert.deepEqual(tokens('input==,id', [2]), [
    ['field', 0, 'input'], ['operator', 5, '=='], ['separator', 7, ','], ['field', 8, 'id'], ['eof', 10, ''],
  ]);
});

test('illegal tokens carry the reason', () => {
  const s = new Scanner('labels.containerd.io/key==value');
  for (let i = 0; i < 5; i++) s.scan();
  assert.deepEqual(s.scan(), { kind: 'illegal', pos: 20, text: '/key==value', err: 'quoted literal not terminated' });
  assert.deepEqual(new Scanner('"\\g"').scan(), { kind: 'illegal', pos: 0, text: '"\\g"', err: 'illegal escape sequence' });
  assert.deepEqual(new Scanner('"\\xaz"').scan(), {
    kind: 'illegal', pos: 0, text: '"\\xaz"', err: 'illegal numeric escape sequence',
  });
  assert.deepEqual(new Scanner('\0').scan(), { kind: 'illegal', pos: 0, text: '\0', err: 'unexpected null' });
});

test('peek does not consume', () => {
  const s = new Scanner('a,b');
  assert.equal(s.peek().text, 'a');
  assert.equal(s.scan().text, 'a');
  assert.equal(s.peek().text, ',');
});

test('unquote decodes Go escapes', () => {
  assert.equal(unquote('"plain"'), 'plain');
  assert.equal(unquote('"a\\tb\\nc\\\\d\\"e"'), 'a\tb\nc\\d"e');
  assert.equal(unquote('"\\x41\\101\\u00e9\\U0001F600\\a"'), 'AAé😀\x07');
  assert.equal(unquote('/a\\/b/'), 'a/b');
  assert.equal(unquote('|a\\|b|'), 'a|b');
  for (const bad of ['"', '"a', '"\\q"', '"\\/"', '"\\777"', '"\\UFFFFFFFF"', '"\\uD800"', '"a\nb"']) {
    assert.throws(() => unquote(bad), /quote syntax error/, bad);
  }
});
