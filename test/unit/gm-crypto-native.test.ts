// The two SM2 backends (native addon over Node's OpenSSL, pure-JS sm-crypto-v2): each against the
// GM/T 0003.5 example, against each other, against the openssl CLI, and the fallback when the addon
// is absent or refused.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  derToRaw,
  generateSm2KeyPair,
  rawToDer,
  setSm2Backend,
  sm2Backend,
  sm2E,
  sm2KeyPairFromPrivate,
  sm2Sign,
  sm2SignAsync,
  sm2SignDigest,
  sm2Verify,
  sm2VerifyDigest,
  SM2_CURVE,
} from '../../main/core/crypto/sm2';
import type { Sm2Backend } from '../../main/core/crypto/sm2';
import { parseSpki, sm2Spki } from '../../main/core/pki/keys';
import { files, openssl, opensslSm2Verify } from '../helpers/openssl';
import { tempDir } from '../helpers/dev-tokens';

// GM/T 0003.5 Annex A (as in CONTRACT.md §5).
const D = '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8';
const X = '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020';
const Y = 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
const E = 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640';
const R = 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3';
const S = 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA';
const pub = Buffer.from('04' + X + Y, 'hex');
const e = Buffer.from(E, 'hex');
const annexSig = Buffer.from(R + S, 'hex');

const ROOT = join(__dirname, '../../..');
const to32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const BACKENDS: Sm2Backend[] = ['native', 'js'];

function using<T>(b: Sm2Backend, f: () => T): T {
  setSm2Backend(b);
  try {
    return f();
  } finally {
    setSm2Backend(undefined);
  }
}

describe('SM2 backends', () => {
  after(() => setSm2Backend(undefined));

  it('plain Node here uses the native addon by default (native/build.sh built it)', () => {
    assert.equal(sm2Backend(), 'native');
  });

  for (const b of BACKENDS) {
    describe(`backend ${b}`, () => {
      it('verifies the Annex A signature; a flipped bit of r, s or e fails', () => {
        using(b, () => {
          assert.ok(sm2VerifyDigest(pub, e, annexSig));
          assert.ok(sm2VerifyDigest(pub, e, rawToDer(annexSig)));
          for (const at of [0, 31, 32, 63]) {
            const bad = Buffer.from(annexSig);
            bad[at]! ^= 0x01;
            assert.ok(!sm2VerifyDigest(pub, e, bad), `bit flipped at byte ${at}`);
          }
          const e2 = Buffer.from(e);
          e2[7]! ^= 0x80;
          assert.ok(!sm2VerifyDigest(pub, e2, annexSig));
        });
      });

      it('derives the Annex A public key from d', () => {
        using(b, () =>
          assert.equal(
            sm2KeyPairFromPrivate(Buffer.from(D, 'hex')).publicKey.toString('hex').toUpperCase(),
            '04' + X + Y,
          ),
        );
      });

      it('rejects out-of-range r, s, r+s = n, a wrong key and a point off the curve', () => {
        using(b, () => {
          const n = SM2_CURVE.n;
          const r = BigInt('0x' + R);
          const cases: [string, Buffer][] = [
            ['r = 0', Buffer.concat([to32(0n), to32(BigInt('0x' + S))])],
            ['s = n', Buffer.concat([to32(r), to32(n)])],
            ['r + s = n', Buffer.concat([to32(r), to32(n - r)])],
            ['all ones', Buffer.alloc(64, 0xff)],
          ];
          for (const [what, sig] of cases) assert.ok(!sm2VerifyDigest(pub, e, sig), what);
          assert.ok(!sm2VerifyDigest(generateSm2KeyPair().publicKey, e, annexSig), 'other key');
          const offCurve = Buffer.from(pub);
          offCurve[64]! ^= 0x01;
          assert.ok(!sm2VerifyDigest(offCurve, e, annexSig), 'point off the curve');
          assert.ok(!sm2VerifyDigest(pub, e.subarray(0, 31), annexSig), 'short digest');
          assert.ok(!sm2VerifyDigest(pub, e, Buffer.from('3006020100020101', 'hex')), 'DER r=0');
        });
      });

      it('refuses private keys outside [1, n-2]', () => {
        using(b, () => {
          if (b === 'native') {
            // sm-crypto-v2 does not check; the addon does (GB/T 32918.1 §6.1).
            assert.throws(() => sm2SignDigest(Buffer.alloc(32), e));
            assert.throws(() => sm2SignDigest(to32(SM2_CURVE.n - 1n), e));
          }
          assert.throws(() => sm2SignDigest(Buffer.alloc(31, 1), e));
        });
      });

      it('a key still verifies after its public table is built (keys seen 3+ times)', () => {
        using(b, () => {
          const kp = generateSm2KeyPair();
          for (let i = 0; i < 6; i++) {
            const m = randomBytes(40);
            const sig = sm2Sign(kp, m);
            assert.ok(sm2Verify(kp.publicKey, m, sig), `round ${i}`);
            assert.ok(!sm2Verify(kp.publicKey, Buffer.concat([m, Buffer.from([0])]), sig));
          }
        });
      });
    });
  }

  it('each backend verifies what the other signed, and both agree on every verdict', () => {
    for (let i = 0; i < 40; i++) {
      const kp = using('js', () => generateSm2KeyPair());
      const m = randomBytes(i * 11);
      const byNative = using('native', () => sm2Sign(kp, m));
      const byJs = using('js', () => sm2Sign(kp, m));
      for (const sig of [byNative, byJs]) {
        assert.ok(using('native', () => sm2Verify(kp.publicKey, m, sig)));
        assert.ok(using('js', () => sm2Verify(kp.publicKey, m, sig)));
        const bad = derToRaw(sig);
        bad[i % 64]! ^= 1 << (i % 8);
        const n = using('native', () => sm2VerifyDigest(kp.publicKey, sm2E(kp.publicKey, m), bad));
        const j = using('js', () => sm2VerifyDigest(kp.publicKey, sm2E(kp.publicKey, m), bad));
        assert.equal(n, false);
        assert.equal(j, false);
      }
    }
  });

  it('signs off the event loop: 64 concurrent signatures all verify, with either backend', async () => {
    for (const b of BACKENDS) {
      setSm2Backend(b);
      try {
        const kp = generateSm2KeyPair();
        const msgs = Array.from({ length: 64 }, (_, i) => randomBytes(i + 1));
        const sigs = await Promise.all(msgs.map((m) => sm2SignAsync(kp, m)));
        sigs.forEach((sig, i) => {
          assert.ok(
            using('js', () => sm2Verify(kp.publicKey, msgs[i]!, sig)),
            `${b} #${i}`,
          );
          assert.ok(!using('native', () => sm2Verify(kp.publicKey, msgs[(i + 1) % 64]!, sig)));
        });
      } finally {
        setSm2Backend(undefined);
      }
    }
  });

  it('the native backend signs with a fresh nonce each time', () => {
    const kp = generateSm2KeyPair();
    const sigs = new Set(
      Array.from({ length: 20 }, () => using('native', () => sm2SignDigest(kp.privateKey, e))),
    );
    assert.equal(new Set([...sigs].map((s) => s.toString('hex'))).size, 20);
  });

  it('a private key buffer overwritten in place is re-imported, not served from the cache', () => {
    using('native', () => {
      const a = generateSm2KeyPair();
      const b = generateSm2KeyPair();
      const d = Buffer.from(a.privateKey);
      assert.ok(sm2VerifyDigest(a.publicKey, e, sm2SignDigest(d, e)));
      b.privateKey.copy(d);
      const sig = sm2SignDigest(d, e);
      assert.ok(sm2VerifyDigest(b.publicKey, e, sig));
      assert.ok(!sm2VerifyDigest(a.publicKey, e, sig));
    });
  });

  for (const b of BACKENDS) {
    it(`openssl pkeyutl verifies what the ${b} backend signed (default ID)`, () => {
      using(b, () => {
        const kp = generateSm2KeyPair();
        const m = Buffer.from(`signed by the ${b} backend`);
        const r = opensslSm2Verify(sm2Spki(kp.publicKey), m, sm2Sign(kp, m));
        assert.ok(r.ok, r.out);
      });
    });
  }

  it('both backends verify what openssl pkeyutl signed, and refuse it for another message', () => {
    const dir = tempDir('sm2-openssl');
    const key = join(dir, 'key.pem');
    assert.ok(openssl(['genpkey', '-algorithm', 'SM2', '-out', key]).ok);
    const spki = join(dir, 'pub.der');
    assert.ok(openssl(['pkey', '-in', key, '-pubout', '-outform', 'DER', '-out', spki]).ok);
    const point = parseSpki(readFileSync(spki)).sm2Point!;
    const m = randomBytes(100);
    const f = files({ msg: m });
    const sigPath = join(dir, 'sig');
    const signedByOpenssl = openssl([
      'pkeyutl',
      '-sign',
      '-rawin',
      '-digest',
      'sm3',
      '-inkey',
      key,
      '-in',
      f.msg!,
      '-out',
      sigPath,
      '-pkeyopt',
      'distid:1234567812345678',
    ]);
    assert.ok(signedByOpenssl.ok, signedByOpenssl.out);
    const sig = readFileSync(sigPath);
    for (const b of BACKENDS) {
      assert.ok(
        using(b, () => sm2Verify(point, m, sig)),
        b,
      );
      assert.ok(!using(b, () => sm2Verify(point, Buffer.concat([m, m]), sig)), b);
    }
  });

  it('DER: round trip for r, s of every length; non-canonical encodings refused', () => {
    for (let i = 0; i < 2000; i++) {
      const raw = randomBytes(64);
      // Leading zero bytes of either half, and top bits set or clear, all occur.
      raw.fill(0, 0, i % 33);
      raw.fill(0, 32, 32 + ((i * 7) % 33));
      raw[31]! |= 1;
      raw[63]! |= 1;
      if (BigInt('0x' + raw.subarray(0, 32).toString('hex')) >= SM2_CURVE.n) raw[0] = 0x7f;
      if (BigInt('0x' + raw.subarray(32).toString('hex')) >= SM2_CURVE.n) raw[32] = 0x7f;
      assert.deepEqual(derToRaw(rawToDer(raw)), raw);
    }
    const good = rawToDer(annexSig).toString('hex');
    const bad = {
      'trailing byte': good + '00',
      'long-form length': '3081' + good.slice(2),
      'needless leading 00': '300702020001020101',
      'negative r': '3006020180020101',
      'r = 0': '3006020100020101',
      'three integers': '3009020101020101020101',
      'wrong tag': '3106020101020101',
      'length past the end': '3006020101020201',
      'r of 33 bytes': '3026' + '0221' + '01'.repeat(33) + '020101',
    };
    for (const [what, hex] of Object.entries(bad))
      assert.throws(() => derToRaw(Buffer.from(hex, 'hex')), Error, what);
  });

  /** Runs sm2.js from a copy of dist/ that has no addon beside it; answers what it printed. */
  function runDetached(env: Record<string, string>, script: string): string {
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  }
  const probe = (dir: string): string =>
    `const s = require(${JSON.stringify(join(dir, 'main/core/crypto/sm2.js'))});
     const kp = s.generateSm2KeyPair();
     const m = Buffer.from('fallback');
     const ok = s.sm2Verify(kp.publicKey, m, s.sm2Sign(kp, m)) && !s.sm2Verify(kp.publicKey, Buffer.from('x'), s.sm2Sign(kp, m));
     console.log(s.sm2Backend() + ' ' + ok);`;

  it('falls back to pure JS when the addon is absent', () => {
    const copy = tempDir('sm2-no-addon');
    cpSync(join(ROOT, 'dist/main'), join(copy, 'dist/main'), { recursive: true });
    mkdirSync(join(copy, 'native'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    assert.equal(runDetached({}, probe(join(copy, 'dist'))), 'js true');
    assert.equal(runDetached({}, probe(join(ROOT, 'dist'))), 'native true');
  });

  it('UKEY_AGENT_SM2=js forces pure JS even with the addon built', () => {
    assert.equal(runDetached({ UKEY_AGENT_SM2: 'js' }, probe(join(ROOT, 'dist'))), 'js true');
  });
});
