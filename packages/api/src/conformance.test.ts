import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProtoOutline, type OutlineField, type ProtoOutline } from './proto-outline.js';

// containerd's protos come from its Go source. Debian's golang-*-dev packages install Go sources
// under /usr/share/gocode/src; `npm run setup` unpacks those packages under .cache/gocode instead
// of installing them; CTRD_GOCODE_SRC points elsewhere (e.g. a GOPATH's src).
const GOCODE_DIRS = ['/usr/share/gocode/src', fileURLToPath(new URL('../../../.cache/gocode/usr/share/gocode/src', import.meta.url))];
const gocode =
  process.env['CTRD_GOCODE_SRC'] ?? GOCODE_DIRS.find((d) => existsSync(join(d, 'github.com/containerd/containerd/api'))) ?? GOCODE_DIRS[0]!;
const containerdDir = join(gocode, 'github.com/containerd/containerd');
const ourDir = fileURLToPath(new URL('../proto/', import.meta.url));

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.name.endsWith('.proto')) out.push(full);
  }
  return out.sort();
}

/** Upstream files whose packages we cover; the optional ones are checked when installed. */
function upstreamFiles(): { required: string[]; optional: string[] } {
  return {
    required: [
      ...walk(join(containerdDir, 'api')),
      join(containerdDir, 'runtime/v2/task/shim.proto'),
      join(containerdDir, 'runtime/v2/runc/options/oci.proto'),
    ],
    optional: [
      join(gocode, 'github.com/containerd/cgroups/stats/v1/metrics.proto'),
      join(gocode, 'github.com/containerd/cgroups/v2/stats/metrics.proto'),
      join(gocode, 'github.com/gogo/googleapis/google/rpc/status.proto'),
      join(gocode, 'google.golang.org/grpc/health/grpc_health_v1/health.proto'),
      join(gocode, 'google.golang.org/grpc/debian/missing-sources/grpc/grpc-proto/master/grpc/health/v1/health.proto'),
    ],
  };
}

function mergeOutlines(files: string[]): ProtoOutline {
  const merged: ProtoOutline = { package: '', messages: new Map(), services: new Map() };
  for (const file of files) {
    const o = parseProtoOutline(readFileSync(file, 'utf8'));
    for (const [k, v] of o.messages) merged.messages.set(k, v);
    for (const [k, v] of o.services) merged.services.set(k, v);
  }
  return merged;
}

/** Compares types by their last name segment, so `types.Platform` equals `containerd.types.Platform`. */
function typeKey(f: OutlineField): string {
  const simple = (t: string): string => t.slice(t.lastIndexOf('.') + 1);
  const map = /^map<([\w.]+),([\w.]+)>$/.exec(f.type);
  const base = map ? `map<${simple(map[1]!)},${simple(map[2]!)}>` : simple(f.type);
  return f.repeated ? `repeated ${base}` : base;
}

function compareMessage(name: string, theirs: Map<number, OutlineField>, ours: Map<number, OutlineField>): string[] {
  const problems: string[] = [];
  for (const [num, field] of theirs) {
    const mine = ours.get(num);
    if (!mine) problems.push(`${name}: field ${num} (${field.name}) missing`);
    else if (mine.name !== field.name) problems.push(`${name}: field ${num} is ${mine.name}, containerd has ${field.name}`);
    else if (typeKey(mine) !== typeKey(field)) {
      problems.push(`${name}.${field.name}: type ${typeKey(mine)}, containerd has ${typeKey(field)}`);
    }
  }
  for (const [num, field] of ours) {
    if (!theirs.has(num)) problems.push(`${name}: field ${num} (${field.name}) is not in containerd's message`);
  }
  return problems;
}

test('the outline reader finds nested messages, maps, oneofs and streaming rpcs', () => {
  const o = parseProtoOutline(`
    syntax = "proto3"; package a.b; /* block */
    service S { rpc Get(Req) returns (stream Res); rpc Put(stream Req) returns (google.protobuf.Empty) {} }
    message Req { // comment
      message Inner { string x = 1 [(opt) = "a;b"]; }
      enum E { ZERO = 0; ONE = 1; }
      map<string, Inner> m = 2;
      oneof choice { string s = 3; int64 n = 4; }
      repeated a.b.Req.Inner list = 5;
    }`);
  assert.equal(o.package, 'a.b');
  assert.deepEqual([...o.messages.keys()].sort(), ['a.b.Req', 'a.b.Req.Inner']);
  const req = o.messages.get('a.b.Req')!;
  assert.deepEqual([...req.keys()].sort(), [2, 3, 4, 5]);
  assert.equal(req.get(2)!.type, 'map<string,Inner>');
  assert.equal(req.get(5)!.repeated, true);
  assert.equal(o.messages.get('a.b.Req.Inner')!.get(1)!.name, 'x');
  assert.deepEqual(o.services.get('a.b.S')!.get('Get'), {
    input: 'Req',
    output: 'Res',
    clientStreaming: false,
    serverStreaming: true,
  });
  assert.equal(o.services.get('a.b.S')!.get('Put')!.clientStreaming, true);
});

test('our protos match containerd 1.6 field by field', async (t) => {
  if (!existsSync(join(containerdDir, 'api'))) {
    t.skip(`containerd Go sources not found at ${containerdDir} (npm run setup unpacks it under .cache/gocode; or install golang-github-containerd-containerd-dev, or set CTRD_GOCODE_SRC)`);
    return;
  }
  const { required, optional } = upstreamFiles();
  const present = optional.filter((f) => existsSync(f));
  for (const f of optional.filter((f) => !existsSync(f))) t.diagnostic(`not installed, not compared: ${f}`);
  const theirs = mergeOutlines([...required, ...present]);
  const ours = mergeOutlines(walk(ourDir));
  assert.ok(theirs.messages.size > 100, `expected many upstream messages, parsed ${theirs.messages.size}`);

  await t.test('every containerd message exists with the same field numbers, names and types', () => {
    const problems: string[] = [];
    for (const [name, fields] of theirs.messages) {
      const mine = ours.messages.get(name);
      if (!mine) problems.push(`${name}: message missing`);
      else problems.push(...compareMessage(name, fields, mine));
    }
    assert.deepEqual(problems, []);
  });

  await t.test('every message we define that containerd also defines is checked', () => {
    const shared = [...ours.messages.keys()].filter((n) => theirs.messages.has(n));
    const ourOnly = [...ours.messages.keys()].filter((n) => !theirs.messages.has(n));
    t.diagnostic(`${shared.length} messages compared; only ours: ${ourOnly.join(', ') || 'none'}`);
    // Only upstream files that are not installed may leave messages of ours unchecked; ctrd's
    // own services (package ctrd.*) have no upstream to match.
    const unchecked = ourOnly.filter((n) => !/^(io\.containerd\.cgroups|google\.rpc|grpc\.health|ctrd)\./.test(n));
    assert.deepEqual(unchecked, []);
  });

  await t.test('every containerd service and method exists with the same signature', () => {
    const problems: string[] = [];
    const simple = (s: string): string => s.slice(s.lastIndexOf('.') + 1);
    for (const [service, methods] of theirs.services) {
      const mine = ours.services.get(service);
      if (!mine) {
        problems.push(`${service}: service missing`);
        continue;
      }
      for (const [method, sig] of methods) {
        const m = mine.get(method);
        if (!m) problems.push(`${service}/${method}: missing`);
        else if (
          simple(m.input) !== simple(sig.input) ||
          simple(m.output) !== simple(sig.output) ||
          m.clientStreaming !== sig.clientStreaming ||
          m.serverStreaming !== sig.serverStreaming
        ) {
          problems.push(`${service}/${method}: signature differs`);
        }
      }
      for (const method of mine.keys()) {
        if (!methods.has(method)) problems.push(`${service}/${method}: not in containerd`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(theirs.services.has('containerd.task.v2.Task'));
    assert.ok(theirs.services.has('containerd.services.events.ttrpc.v1.Events'));
  });
});
