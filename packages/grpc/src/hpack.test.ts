import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHeaders, HpackDecoder, HpackError, huffmanDecode } from './hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

// Header blocks written by an independent encoder (the Python `hpack` package), Huffman coding on;
// the first three are RFC 7541's examples C.4.1 to C.4.3.
test('decodes requests that use the static table, the dynamic table and Huffman-coded strings', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('828684418cf1e3c2e5f23a6ba0ab90f4ff')), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ]);
  assert.deepEqual(d.decode(hex('828684be5886a8eb10649cbf')), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ]);
  assert.deepEqual(d.decode(hex('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf')), [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ]);
});

test('a table size update shrinks the dynamic table, and older entries are evicted as new ones come', () => {
  const d = new HpackDecoder();
  const date = (s: string) => ['date', `Mon, 21 Oct 2013 20:13:${s} GMT`];
  const first = [[':status', '302'], ['cache-control', 'private'], date('21'), ['location', 'https://www.example.com']];
  // Starts with an update to 256 bytes.
  assert.deepEqual(d.decode(hex('3fe101488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3')), first);
  assert.deepEqual(d.decode(hex('4883640effc1c0bf')), [[':status', '307'], ...first.slice(1)]);
  assert.deepEqual(
    d.decode(hex('88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007')),
    [
      [':status', '200'],
      ['cache-control', 'private'],
      date('22'),
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ],
  );
  // An index past the entries the table still holds.
  assert.throws(() => d.decode(Buffer.of(0x80 | 66)), HpackError);
});

test('table entries are sized in octets, whatever the bytes of a value', () => {
  const d = new HpackDecoder();
  // A table of 150 bytes, then 'a' with 100 bytes of 0xe9 (32 + 1 + 100 = 133: it fits), then
  // that entry again by its index.
  const value = Buffer.alloc(100, 0xe9);
  const block = Buffer.concat([hex('3f77'), hex('400161'), Buffer.of(100), value, hex('be')]);
  const field = ['a', value.toString('latin1')];
  assert.deepEqual(d.decode(block), [field, field]);
});

test('every byte value decodes from its Huffman code', () => {
  // The encoder wrote the string of the 256 code points as UTF-8: 0x00-0x7f as themselves, the
  // rest as two bytes each.
  const block = hex(
  '40899acac8b5254207317fffec05ffc7fffd8fffffe2fffffe3fffffe4fffffe5fffffe6fffffe7fffffe8ffffeaffff' +
  'fff3fffffa7fffffabffffffdfffffebfffffecfffffedfffffeefffffefffffff0ffffff1ffffff2fffffffbfffffcf' +
  'fffffd3fffffd7fffffdbfffffdffffffe3fffffe7fffffebfffffed4fe3f9ffaffcabf1febfafefe7fdfd2cbb000899' +
  '69b71d79fb9f7fff20ffbff3ff50ddbd7f061c58f265cd9f469d5af66dddbf871e5f9cff7ff7fffc3ff9ffe45fff4719' +
  '242cb34e6e9d68a6a3d7dac426defe3cfaf7fffbfe7ffbffdffffffcfffebfffe6fffebffff4bfffaffff9ffffaffffa' +
  '3fffaffffd3fffebffff53fffaffffd5fffebffffb3fffd7fffeb7fff5ffffdafffebffffb7fffd7ffff73fffaffffee' +
  'ffff5ffffdefffebffffebfffebffffbffffd7ffffd9fffd7ffffdbfffd7fffebffff5ffffe0fffebffffeefffebffff' +
  'c3fffd7ffff8bfffafffff1ffff5ffffe4fffebfffee7fff5ffffb1fffd7ffff97fffaffffd9fffebffffcdfffd7ffff' +
  '9ffffafffffbffffaffffdafffebfffeeffff5ffff4ffff5ffffb7fffd7fffee7fff5ffffe8fffebffffd3fffd7fffde' +
  'fffebffffd5fffd7fffeeffff5ffffbdfffd7ffffe1fffd7fffdffffebffff7ffffafffff5ffff5ffffecfffebffff07' +
  'fff5ffff87fffaffffe0fffebffff17fff5ffffedfffebffff87fffafffff77fff5ffffeffffebfffeafffebffff8bff' +
  'faffffe3fffebffff93fffafffff87fff5ffffcbfffd7ffff37fff5fffff1fffe3fffcdfffc7fffd2fffe3fffcffffc7' +
  'fffa3fff8ffffa7fffc7fffd4fffe3fffeaffff1ffffb3fffc7fffd6fffe3ffff6bfff8ffffdbfffe3ffff73fff8ffff' +
  'ddfffe3ffff7bfff8fffff5ffff1ffffbffffc7ffffb3fff8fffff6ffff1ffff5ffff8ffffe0fffe3ffffddfffc7ffff' +
  '0ffff1ffffc5fffc7ffff1ffff1ffffc9fffc7fffb9fffc7fffd8fffe3ffff97fff8ffffb3fffc7ffff37fff1ffffcff' +
  'ffc7ffffbffff8ffffb5fffc7fffbbfffc7fffa7fff8ffffb7fffc7fffdcfffe3ffffa3fff8ffffe9fffe3fffdefffe3' +
  'ffffabfff8ffffbbfffc7fffdefffe3ffffe1fffc7fffbffffc7fffdffffe3ffffaffff8ffffecfffe3fffe0fffe3fff' +
  'e1fffe3ffff07fff1ffff17fff1ffffdbfffc7fffe1fffe3ffffbbfff8ffffeffffe3fffd5fffc7fffe2fffe3ffff1ff' +
  'ff1ffff93fff8fffff0fffe3ffff2ffff1ffff9bfff8fffff1',
  );
  const [[name, value]] = new HpackDecoder().decode(block) as [[string, string]];
  assert.equal(name, 'grpc-message');
  assert.deepEqual(Buffer.from(value, 'latin1'), Buffer.from(String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)), 'utf8'));
});

test('bad Huffman strings and blocks are refused', () => {
  // EOS (30 ones) inside a string.
  assert.throws(() => huffmanDecode(hex('ffffffff')), /EOS|Huffman/);
  // Padding that is not all ones, or longer than 7 bits.
  assert.throws(() => huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4fe')), /padding/);
  assert.throws(() => huffmanDecode(hex('ff')), /padding/);
  assert.throws(() => new HpackDecoder().decode(Buffer.of(0x80)), /index 0/);
  assert.throws(() => new HpackDecoder().decode(Buffer.of(0x3f, 0xe1, 0x3f)), /table size 8192/);
  assert.throws(() => new HpackDecoder().decode(Buffer.of(0x82, 0x20)), /after a header field/);
  assert.throws(() => new HpackDecoder().decode(Buffer.of(0x00, 0x05, 0x61)), /truncated/);
});

test('encodeHeaders writes literals any decoder reads back, long ones included', () => {
  const headers: [string, string][] = [
    [':method', 'POST'],
    [':path', '/containerd.services.images.v1.Images/List'],
    ['containerd-namespace', 'x'.repeat(300)],
  ];
  assert.deepEqual(new HpackDecoder().decode(encodeHeaders(headers)), headers);
});
