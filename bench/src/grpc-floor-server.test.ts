import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import { ContentClient, WriteAction, type WriteContentRequest, type WriteContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { FloorServer } from './start-floor.js';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof GrpcJs;

const sha256 = (...parts: Buffer[]) => `sha256:${createHash('sha256').update(Buffer.concat(parts)).digest('hex')}`;

/** converse sends the requests one at a time, each after the previous answer, as ctr does. */
async function converse(address: string, reqs: Partial<WriteContentRequest>[]): Promise<{ responses: WriteContentResponse[]; code: number; details: string }> {
  const client = new ContentClient(`unix://${address}`, grpc.credentials.createInsecure());
  try {
    const call = client.write();
    const responses: WriteContentResponse[] = [];
    const status = new Promise<GrpcJs.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    let next = 0;
    const send = () => {
      if (next < reqs.length) call.write({ action: WriteAction.STAT, ref: '', total: 0, expected: '', offset: 0, data: Buffer.alloc(0), labels: {}, ...reqs[next++] });
    };
    call.on('data', (res: WriteContentResponse) => {
      responses.push(res);
      send();
    });
    // Ending the stream is left to the server: it must close it after a COMMIT or an error.
    send();
    const { code, details } = await status;
    return { responses, code, details };
  } finally {
    client.close();
  }
}

test('the floor server answers Content.Write as ctr content ingest drives it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floor-write-'));
  const server = await FloorServer.start(dir);
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const a = Buffer.alloc(1 << 20, 1);
  const b = Buffer.from('tail');
  const total = a.length + b.length;
  const digest = sha256(a, b);

  const before = Date.now();
  const ok = await converse(server.address, [
    { action: WriteAction.STAT, ref: 'r1', total, expected: digest },
    { action: WriteAction.STAT },
    { action: WriteAction.WRITE, offset: 0, data: a },
    { action: WriteAction.WRITE, offset: a.length, data: b },
    { action: WriteAction.COMMIT, offset: total, total, expected: digest },
  ]);
  assert.equal(ok.code, grpc.status.OK, ok.details);
  assert.deepEqual(
    ok.responses.map((r) => [r.action, Number(r.offset), Number(r.total), r.digest]),
    [
      [WriteAction.STAT, 0, total, sha256()],
      [WriteAction.STAT, 0, total, sha256()],
      [WriteAction.WRITE, a.length, total, sha256(a)],
      [WriteAction.WRITE, total, total, digest],
      [WriteAction.COMMIT, total, total, digest],
    ],
  );
  const started = ok.responses[0]!.startedAt!;
  assert.ok(Number(started.seconds) * 1000 >= Math.floor(before / 1000) * 1000 && Number(started.seconds) * 1000 <= Date.now());
  assert.deepEqual(ok.responses[0]!.updatedAt, started);
  assert.equal(ok.responses[2]!.startedAt, undefined);
  assert.deepEqual(ok.responses[4]!.startedAt, started);
  assert.ok(ok.responses[4]!.updatedAt !== undefined);

  // A write at offset 0 over data already sent starts the hash again, as a truncate does.
  const again = await converse(server.address, [
    { action: WriteAction.WRITE, ref: 'r2', offset: 0, data: a },
    { action: WriteAction.WRITE, offset: 0, data: b },
    { action: WriteAction.COMMIT, offset: b.length, expected: sha256(b) },
  ]);
  assert.equal(again.code, grpc.status.OK, again.details);
  assert.equal(again.responses.at(-1)?.digest, sha256(b));

  const badDigest = await converse(server.address, [
    { action: WriteAction.STAT, ref: 'r3', total: b.length, expected: digest },
    { action: WriteAction.COMMIT, data: b },
  ]);
  assert.equal(badDigest.code, grpc.status.FAILED_PRECONDITION);
  assert.match(badDigest.details, /unexpected commit digest/);
  assert.equal(badDigest.responses.length, 1);

  const badSize = await converse(server.address, [{ action: WriteAction.COMMIT, ref: 'r4', total: 3, data: b }]);
  assert.equal(badSize.code, grpc.status.FAILED_PRECONDITION);
  assert.match(badSize.details, /unexpected commit size 4, expected 3/);

  const badOffset = await converse(server.address, [
    { action: WriteAction.WRITE, ref: 'r5', data: b },
    { action: WriteAction.WRITE, offset: 99, data: b },
  ]);
  assert.equal(badOffset.code, grpc.status.OUT_OF_RANGE);

  const noRef = await converse(server.address, [{ action: WriteAction.STAT }]);
  assert.equal(noRef.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(noRef.responses.length, 0);
});
