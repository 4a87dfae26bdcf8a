// Relay building blocks: auth headers, tus metadata, progress rate/ETA, the job store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { verifyRequestSign } from '../../main/core/platform/canonical';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { RelayJobStore } from '../../main/core/relay/job-store';
import { ProgressMeter } from '../../main/core/relay/progress';
import {
  decodeMetadata,
  dispositionFilename,
  encodeMetadata,
  fileIdOf,
  relayAuthHeaders,
  relayCanonical,
} from '../../main/core/relay/protocol';
import { openDatabase } from '../../main/core/store/database';

describe('relay protocol', () => {
  it('signs {appId, method, nonce, path, time} with a fresh nonce per request', async () => {
    const key = generateSm2KeyPair();
    const signer = sm2RequestSigner('app-1', key);
    const h = await relayAuthHeaders(signer, 'patch', '/api/v1/files/abc', 1700000000000);
    const fields = {
      appId: 'app-1',
      method: 'PATCH',
      nonce: h['X-Nonce']!,
      path: '/api/v1/files/abc',
      time: '1700000000000',
    };
    assert.equal(
      relayCanonical(fields),
      `appId=app-1&method=PATCH&nonce=${h['X-Nonce']}&path=/api/v1/files/abc&time=1700000000000`,
    );
    assert.ok(verifyRequestSign(fields, h['X-Sign']!, sm2Spki(key.publicKey)));
    assert.ok(
      !verifyRequestSign({ ...fields, method: 'GET' }, h['X-Sign']!, sm2Spki(key.publicKey)),
    );
    const again = await relayAuthHeaders(signer, 'PATCH', '/api/v1/files/abc', 1700000000000);
    assert.notEqual(again['X-Nonce'], h['X-Nonce']);
  });

  it('round-trips Upload-Metadata and extracts ids from Location', () => {
    const meta = { filename: '合同 v2,final.pdf', sm3: 'ab'.repeat(32) };
    assert.deepEqual(decodeMetadata(encodeMetadata(meta)), meta);
    assert.equal(fileIdOf('/api/v1/files/0f3a'), '0f3a');
    assert.equal(fileIdOf('http://h:1/api/v1/files/0f3a'), '0f3a');
    assert.equal(fileIdOf('/api/v1/files/a%2F..'), undefined);
    assert.equal(fileIdOf('/elsewhere/0f3a'), undefined);
  });
});

describe('relay progress', () => {
  it('answers the rate over its window and the time left', () => {
    let t = 0;
    const m = new ProgressMeter(1000, () => t);
    assert.deepEqual(m.sample(0, 1000), { rate: 0, etaMs: null });
    t = 500;
    assert.deepEqual(m.sample(100, 1000), { rate: 200, etaMs: 4500 });
    t = 2000; // the first sample leaves the window: the rate follows the recent pace
    assert.deepEqual(m.sample(400, 1000), { rate: 200, etaMs: 3000 });
    assert.equal(m.sample(1000, 1000).etaMs, 0);
  });
});

describe('relay job store', () => {
  it('persists jobs and moves state only from the expected states', () => {
    const db = openDatabase(':memory:');
    const jobs = new RelayJobStore(db, () => 42);
    const job = jobs.add({ kind: 'upload', baseUrl: 'http://p', localPath: '/tmp/a' });
    assert.equal(job.state, 'queued');
    assert.equal(jobs.transition(job.id, ['queued'], 'running'), true);
    assert.equal(jobs.transition(job.id, ['queued'], 'running'), false);
    jobs.update(job.id, { offset: 10, sm3: 'x', size: 20 });
    assert.deepEqual(
      jobs.pending().map((j) => [j.id, j.state, j.offset]),
      [[job.id, 'running', 10]],
    );
    jobs.transition(job.id, ['running'], 'paused');
    assert.deepEqual(jobs.pending(), []);
    assert.throws(() => jobs.update(job.id, { state: 'bogus' as never }), /CHECK/);
    db.close();
  });
});

describe('download file names (Content-Disposition)', () => {
  it('prefers filename*, falls back to filename, and is safe to offer as a save name', () => {
    const star = `attachment; filename="x.pdf"; filename*=UTF-8''${encodeURIComponent('合同 2026.pdf')}`;
    assert.equal(dispositionFilename(star), '合同 2026.pdf');
    assert.equal(dispositionFilename('attachment; filename="report.bin"'), 'report.bin');
    assert.equal(dispositionFilename('attachment; filename=plain.txt'), 'plain.txt');
    assert.equal(dispositionFilename(undefined), undefined);
    assert.equal(dispositionFilename('attachment'), undefined);
    // No directories, no control characters, nothing empty or dot-only, at most 255 characters.
    assert.equal(
      dispositionFilename(`attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`),
      'passwd',
    );
    assert.equal(dispositionFilename('attachment; filename="C:\\Windows\\evil.dll"'), 'evil.dll');
    assert.equal(dispositionFilename(`attachment; filename*=UTF-8''a%0Ab%00c`), 'abc');
    assert.equal(dispositionFilename(`attachment; filename*=UTF-8''..`), undefined);
    assert.equal(dispositionFilename(`attachment; filename*=UTF-8''%E0%A4%A`), undefined);
    assert.equal(
      [...dispositionFilename(`attachment; filename="${'章'.repeat(300)}"`)!].length,
      255,
    );
  });
});
