import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm3 } from '../../main/core/crypto/sm3';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { MIN_RETENTION_MS } from '../../main/core/audit/audit-log';
import type { AuditInput } from '../../main/core/audit/audit-log';
import { canonicalJson } from '../../main/core/audit/canonical-json';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';

const root = mkdtempSync(join(tmpdir(), 'audit-log-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const signer = softwareSm2Provider(generateSm2KeyPair());

const call = (i: number, time = T0 + i * 1000): AuditInput => ({
  source: 'jsapi',
  interface: 'ukey.sign',
  resultCode: i % 10 === 0 ? '2003' : '0',
  message: i % 10 === 0 ? 'the signer declined' : 'ok',
  serialNumber: `req-${i}`,
  appId: 'app.a',
  origin: 'https://a.example',
  durationMs: i % 500,
  normalized: { sealCode: 'ES1', UKeyId: 'SUK0001' },
  raw: { version: '1.0', appId: 'app.a', docHash: 'q83vEjRWeJA=', sign: 'MEUC', pin: '123456' },
  time,
});

let n = 0;
/** A fresh store whose audit log holds `count` entries. */
function storeWith(count: number): AgentStore {
  const s = openAgentStore(join(root, `s${n++}`));
  for (let i = 1; i <= count; i++) s.audit.append(call(i));
  return s;
}

/** Edits the log the way an attacker with the file would: triggers out of the way first. */
function tamper(s: AgentStore, sql: string, ...params: unknown[]): void {
  s.db.exec(
    'DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;',
  );
  s.db.exec('DROP TRIGGER IF EXISTS audit_seals_no_update;');
  s.db.prepare(sql).run(...params);
}

describe('audit log: chain', () => {
  let s: AgentStore;
  before(() => {
    s = storeWith(1000);
  });
  after(() => s.close());

  it('appends 1000 entries with seq 1..1000 and verifies', () => {
    const r = s.audit.verify();
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.entries, 1000);
    assert.equal(r.headSeq, 1000);
    assert.equal(r.unsealed, 1000);
    assert.equal(r.firstBadSeq, undefined);
  });

  it('hashes SM3(prev ‖ JCS(entry)) from a zero genesis hash, as documented', () => {
    const [e1, e2] = s.audit.entries({ limit: 2 });
    const bytes = (e: NonNullable<typeof e1>): Buffer => {
      const { hash: _hash, ...entry } = e;
      return Buffer.from(canonicalJson(entry), 'utf8');
    };
    const h1 = sm3(Buffer.concat([Buffer.alloc(32), bytes(e1!)]));
    assert.equal(e1!.hash, h1.toString('hex'));
    assert.equal(e2!.hash, sm3(Buffer.concat([h1, bytes(e2!)])).toString('hex'));
    assert.match(
      canonicalJson({ b: 1, a: [true, null, 'x'] }),
      /^\{"a":\[true,null,"x"\],"b":1\}$/,
    );
  });

  it('keeps docHash and the request sign in raw, never the PIN', () => {
    const e = s.audit.entries({ limit: 1 })[0]!;
    assert.deepEqual(e.raw, {
      version: '1.0',
      appId: 'app.a',
      docHash: 'q83vEjRWeJA=',
      sign: 'MEUC',
      pin: '[redacted]',
    });
    assert.deepEqual(e.normalized, { sealCode: 'ES1', UKeyId: 'SUK0001' });
  });

  it('refuses edits through SQL while its triggers stand', () => {
    assert.throws(
      () => s.db.prepare("UPDATE audit_log SET message = 'x' WHERE seq = 5").run(),
      /append-only/,
    );
    assert.throws(() => s.db.prepare('DELETE FROM audit_log WHERE seq = 5').run(), /prune/);
  });

  it('validates entries, naming the field', () => {
    const bad: [Partial<AuditInput>, string][] = [
      [{ source: 'web' as AuditInput['source'] }, 'source'],
      [{ interface: '' }, 'interface'],
      [{ resultCode: 'ok' }, 'resultCode'],
      [{ durationMs: -1 }, 'durationMs'],
    ];
    for (const [change, field] of bad)
      assert.throws(
        () => s.audit.append({ ...call(1), ...change }),
        (e: unknown) => e instanceof AgentError && e.code === '1001' && e.message.includes(field),
      );
  });
});

describe('audit log: tampering', () => {
  it('names the seq of an entry whose field was changed', () => {
    const s = storeWith(300);
    try {
      tamper(s, "UPDATE audit_log SET result_code = '0' WHERE seq = 120");
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBadSeq, 120);
      assert.match(r.reason!, /entry 120/);
    } finally {
      s.close();
    }
  });

  it('names the seq of a changed raw entry and of a changed time', () => {
    const s = storeWith(50);
    try {
      tamper(s, 'UPDATE audit_log SET raw = ? WHERE seq = 33', '{"appId":"app.b"}');
      tamper(s, 'UPDATE audit_log SET time = time + 1 WHERE seq = 40');
      assert.equal(s.audit.verify().firstBadSeq, 33);
    } finally {
      s.close();
    }
  });

  it('names the gap of a deleted row', () => {
    const s = storeWith(100);
    try {
      tamper(s, 'DELETE FROM audit_log WHERE seq = 57');
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBadSeq, 57);
      assert.match(r.reason!, /entry 57 is missing/);
    } finally {
      s.close();
    }
  });

  it('detects reordered entries', () => {
    const s = storeWith(20);
    try {
      tamper(s, 'UPDATE audit_log SET seq = -1 WHERE seq = 8');
      tamper(s, 'UPDATE audit_log SET seq = 8 WHERE seq = 9');
      tamper(s, 'UPDATE audit_log SET seq = 9 WHERE seq = -1');
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBadSeq, 8);
    } finally {
      s.close();
    }
  });

  it('a chain rewritten with recomputed hashes is caught by the seal', async () => {
    const s = storeWith(30);
    try {
      await s.audit.seal(signer);
      for (let i = 31; i <= 40; i++) s.audit.append(call(i));
      // Rebuild seq 10.. with a changed entry 20 (a declined signature made to look approved) and fresh hashes, as a careful attacker would.
      const rows = s.audit.entries({ afterSeq: 9, limit: 100 });
      tamper(s, 'DELETE FROM audit_log WHERE seq >= 10');
      s.db.exec('DROP TRIGGER IF EXISTS audit_log_no_delete');
      for (const e of rows) {
        const { hash: _h, seq: _s, ...rest } = e;
        s.audit.append({
          ...(rest as unknown as AuditInput),
          serialNumber: e.serialNumber ?? undefined,
          appId: e.appId ?? undefined,
          origin: e.origin ?? undefined,
          durationMs: e.durationMs ?? undefined,
          normalized: e.normalized as Record<string, unknown>,
          resultCode: e.seq === 20 ? '0' : e.resultCode,
          source: 'jsapi',
        });
      }
      assert.equal(s.audit.entries({ afterSeq: 19, limit: 1 })[0]!.resultCode, '0');
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBadSeq, 1);
      assert.match(r.reason!, /entries 1\.\.30 were rewritten/);
    } finally {
      s.close();
    }
  });

  it('detects entries cut off the end below a seal', async () => {
    const s = storeWith(30);
    try {
      await s.audit.seal(signer);
      tamper(s, 'DELETE FROM audit_log WHERE seq > 25');
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBadSeq, 26);
    } finally {
      s.close();
    }
  });
});

describe('audit log: seals', () => {
  it('seals the head; verify checks the signatures and the given public key', async () => {
    const s = storeWith(10);
    try {
      const seal = await s.audit.seal(signer);
      assert.equal(seal?.seq, 10);
      assert.equal(seal?.hash, s.audit.entries({ afterSeq: 9 })[0]!.hash);
      s.audit.append(call(11));
      const r = s.audit.verify({ publicKey: signer.spki });
      assert.equal(r.ok, true, r.reason);
      assert.equal(r.seals, 1);
      assert.equal(r.lastSealedSeq, 10);
      assert.equal(r.unsealed, 1);

      const other = softwareSm2Provider(generateSm2KeyPair());
      const wrongKey = s.audit.verify({ publicKey: other.spki });
      assert.equal(wrongKey.ok, false);
      assert.equal(wrongKey.badSealId, seal!.id);
    } finally {
      s.close();
    }
  });

  it('a tampered seal fails verification', async () => {
    const s = storeWith(10);
    try {
      const seal = (await s.audit.seal(signer))!;
      tamper(s, 'UPDATE audit_seals SET time = time + 1 WHERE id = ?', seal.id);
      const r = s.audit.verify();
      assert.equal(r.ok, false);
      assert.equal(r.badSealId, seal.id);
      assert.match(r.reason!, /signature does not verify/);
    } finally {
      s.close();
    }
  });

  it('a seal moved to another seq fails verification', async () => {
    const s = storeWith(10);
    try {
      const seal = (await s.audit.seal(signer))!;
      tamper(s, 'UPDATE audit_seals SET seq = 5 WHERE id = ?', seal.id);
      assert.equal(s.audit.verify().ok, false);
    } finally {
      s.close();
    }
  });

  it('seals nothing on an empty log, and periodically only when there are new entries', async () => {
    const s = storeWith(0);
    try {
      assert.equal(await s.audit.seal(signer), undefined);
      let signs = 0;
      const counting = { ...signer, sign: (m: Buffer, h: 'sm3') => (signs++, signer.sign(m, h)) };
      const errors: unknown[] = [];
      const timer = s.audit.startPeriodicSealing(counting, 1000, (e) => errors.push(e));
      s.audit.append(call(1));
      await new Promise((r) => setTimeout(r, 2300));
      timer.stop();
      assert.equal(signs, 1);
      assert.deepEqual(errors, []);
      assert.equal(s.audit.lastSealedSeq(), 1);
      assert.throws(() => s.audit.startPeriodicSealing(signer, 10), /intervalMs/);
    } finally {
      s.close();
    }
  });
});

describe('audit log: retention', () => {
  it('refuses to prune anything younger than 183 days', () => {
    const s = storeWith(1);
    try {
      assert.equal(MIN_RETENTION_MS, 183 * DAY);
      assert.throws(
        () => s.audit.prune({ olderThanMs: 182 * DAY }),
        (e: unknown) => e instanceof AgentError && e.code === '1001' && /183 days/.test(e.message),
      );
    } finally {
      s.close();
    }
  });

  it('prunes at a seal older than the cutoff and the rest still verifies from the anchor', async () => {
    const s = openAgentStore(join(root, 'prune'));
    try {
      for (let i = 1; i <= 20; i++) s.audit.append(call(i, T0 + i));
      await s.audit.seal(signer, T0 + 100);
      for (let i = 21; i <= 30; i++) s.audit.append(call(i, T0 + 300 * DAY + i));
      await s.audit.seal(signer, T0 + 300 * DAY + 100);
      const now = T0 + 400 * DAY;
      // 183 days before now the second seal is too young: the cut is made at the first.
      const r = s.audit.prune({ olderThanMs: 183 * DAY, now, publicKey: signer.spki });
      assert.deepEqual(r, { pruned: 20, anchorSeq: 20 });
      assert.equal(s.audit.entries()[0]!.seq, 21);
      const v = s.audit.verify({ publicKey: signer.spki, now });
      assert.equal(v.ok, true, v.reason);
      assert.equal(v.anchorSeq, 20);
      assert.equal(v.entries, 10);
      assert.deepEqual(s.audit.prune({ olderThanMs: 183 * DAY, now }), {
        pruned: 0,
        anchorSeq: 20,
      });
      s.audit.append(call(31, now));
      assert.equal(s.audit.verify({ now }).ok, true);

      // Rows at or above the anchor cannot be deleted, and a forged anchor is caught.
      assert.throws(() => s.db.prepare('DELETE FROM audit_log WHERE seq = 21').run(), /prune/);
      s.db.exec('DROP TRIGGER audit_log_no_delete');
      s.db.prepare('DELETE FROM audit_log WHERE seq <= 25').run();
      s.db
        .prepare('UPDATE audit_anchor SET seq = 25, hash = (SELECT hash FROM audit_seals LIMIT 1)')
        .run();
      const forged = s.audit.verify({ now });
      assert.equal(forged.ok, false);
      assert.match(forged.reason!, /anchor/);
    } finally {
      s.close();
    }
  });

  it('does not prune a log that does not verify', async () => {
    const s = openAgentStore(join(root, 'prune-bad'));
    try {
      for (let i = 1; i <= 5; i++) s.audit.append(call(i, T0 + i));
      await s.audit.seal(signer, T0 + 10);
      tamper(s, "UPDATE audit_log SET message = 'edited' WHERE seq = 2");
      assert.throws(
        () => s.audit.prune({ olderThanMs: 200 * DAY, now: T0 + 400 * DAY }),
        /does not verify/,
      );
      assert.equal(s.audit.entries().length, 5);
    } finally {
      s.close();
    }
  });
});

describe('audit log: export', () => {
  let s: AgentStore;
  before(() => {
    s = storeWith(1200);
    s.audit.append({
      source: 'operator',
      interface: 'apps.add',
      resultCode: '1001',
      message: 'origins[0] must use https, "really"\nsecond line',
      time: T0 + 5_000_000,
    });
  });
  after(() => s.close());

  const collect = async (it: AsyncIterable<string>): Promise<string[]> => {
    const out: string[] = [];
    for await (const l of it) out.push(l);
    return out;
  };

  it('jsonl: one canonical entry plus hash per line, all of them in seq order', async () => {
    const lines = await collect(s.audit.export({ format: 'jsonl' }));
    assert.equal(lines.length, 1201);
    const first = JSON.parse(lines[0]!);
    assert.equal(first.seq, 1);
    assert.equal(first.serialNumber, 'req-1');
    assert.equal(first.raw.pin, '[redacted]');
    const { hash, ...entry } = first;
    assert.equal(
      hash,
      sm3(Buffer.concat([Buffer.alloc(32), Buffer.from(canonicalJson(entry))])).toString('hex'),
    );
    assert.equal(lines[0], canonicalJson(first) + '\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).seq),
      Array.from({ length: 1201 }, (_, i) => i + 1),
    );
  });

  it('csv: header, ISO time, quoted fields; from/to select by time', async () => {
    const lines = await collect(
      s.audit.export({ format: 'csv', from: T0 + 100_000, to: new Date(T0 + 200_000) }),
    );
    assert.equal(
      lines[0],
      'seq,time,source,serialNumber,appId,origin,interface,durationMs,resultCode,message,normalized,raw,hash\r\n',
    );
    assert.equal(lines.length, 1 + 100);
    assert.ok(
      lines[1]!.startsWith(
        `100,${new Date(T0 + 100_000).toISOString()},jsapi,req-100,app.a,https://a.example,ukey.sign,100,2003,`,
      ),
    );
    assert.ok(lines[1]!.includes(',"{""UKeyId"":""SUK0001"",""sealCode"":""ES1""}",'));
    const last = await collect(s.audit.export({ format: 'csv', from: T0 + 5_000_000 }));
    assert.equal(last.length, 2);
    assert.ok(last[1]!.includes(',"origins[0] must use https, ""really""\nsecond line",'));
  });

  it('writes to a stream with backpressure and counts entries', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    let bytes = 0;
    out.on('data', (c: Buffer) => (bytes += c.length));
    const count = await s.audit.exportTo(out, { format: 'csv' });
    assert.equal(count, 1201);
    assert.ok(bytes > 100_000);
  });

  it('refuses a bad format or range', async () => {
    await assert.rejects(collect(s.audit.export({ format: 'xml' as 'csv' })), /format/);
    await assert.rejects(collect(s.audit.export({ format: 'csv', from: 10, to: 5 })), /from/);
  });
});
