import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSm3, nodeHasSm3, sm3 } from '../../main/core/crypto/sm3';
import type { GmBackend } from '../../main/core/crypto/sm3';
import {
  derToRaw,
  generateSm2KeyPair,
  normaliseSignatureToDer,
  rawToDer,
  sm2E,
  sm2KeyPairFromPrivate,
  sm2Sign,
  sm2Verify,
  sm2VerifyDigest,
  sm2Z,
} from '../../main/core/crypto/sm2';

// GM/T 0003.5 Annex A and GB/T 32905 vectors, as fixed in CONTRACT.md §5.
const D = '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8';
const X = '09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020';
const Y = 'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
const Z = 'B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3';
const E = 'F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640';
const R = 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3';
const S = 'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA';
const pub = Buffer.from('04' + X + Y, 'hex');

const backends: GmBackend[] = nodeHasSm3() ? ['node', 'js'] : ['js'];

describe('GM algorithms', () => {
  it('runs both SM3 backends on this Node', () => {
    assert.ok(
      nodeHasSm3(),
      'plain Node here has SM3; the js path is tested as Electron would use it',
    );
  });

  for (const b of backends) {
    describe(`backend ${b}`, () => {
      it('SM3("abc") known answer', () => {
        assert.equal(
          sm3('abc', b).toString('hex'),
          '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
        );
      });
      it('SM3 of 64×"abcd" known answer (two blocks)', () => {
        assert.equal(
          sm3('abcd'.repeat(16), b).toString('hex'),
          'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
        );
      });
      it('streaming equals one-shot for odd chunkings', () => {
        const data = randomBytes(10_000);
        const h = createSm3(b);
        for (let off = 0; off < data.length;) {
          const n = 1 + ((off * 7) % 131);
          h.update(data.subarray(off, off + n));
          off += n;
        }
        assert.equal(h.digest().toString('hex'), sm3(data, b).toString('hex'));
      });
      it('Z and e of the Annex A vector', () => {
        assert.equal(sm2Z(pub, '1234567812345678', b).toString('hex').toUpperCase(), Z);
        assert.equal(
          sm2E(pub, Buffer.from('message digest'), undefined, b).toString('hex').toUpperCase(),
          E,
        );
      });
      it('verifies the Annex A signature and rejects a flipped bit', () => {
        const raw = Buffer.from(R + S, 'hex');
        assert.ok(sm2Verify(pub, Buffer.from('message digest'), rawToDer(raw), undefined, b));
        raw[5]! ^= 1;
        assert.ok(!sm2Verify(pub, Buffer.from('message digest'), rawToDer(raw), undefined, b));
      });
      it('signs and verifies with a fresh key', () => {
        const kp = generateSm2KeyPair();
        const sig = sm2Sign(kp, Buffer.from('hello'), undefined, b);
        assert.ok(sm2Verify(kp.publicKey, Buffer.from('hello'), sig, undefined, b));
        assert.ok(!sm2Verify(kp.publicKey, Buffer.from('hellO'), sig, undefined, b));
      });
    });
  }

  it('both backends give identical SM3 and e for random inputs', () => {
    for (let i = 0; i < 50; i++) {
      const m = randomBytes(i * 37);
      assert.equal(sm3(m, 'node').toString('hex'), sm3(m, 'js').toString('hex'));
      assert.equal(
        sm2E(pub, m, undefined, 'node').toString('hex'),
        sm2E(pub, m, undefined, 'js').toString('hex'),
      );
    }
  });

  it('derives the Annex A public key from d', () => {
    assert.equal(
      sm2KeyPairFromPrivate(Buffer.from(D, 'hex')).publicKey.toString('hex').toUpperCase(),
      '04' + X + Y,
    );
  });

  it('normalises raw and DER signatures, refuses malformed ones', () => {
    const raw = Buffer.from(R + S, 'hex');
    const der = rawToDer(raw);
    assert.deepEqual(derToRaw(der), raw);
    assert.deepEqual(normaliseSignatureToDer(raw), der);
    assert.deepEqual(normaliseSignatureToDer(der), der);
    assert.throws(() => derToRaw(Buffer.from('3003020101', 'hex')));
    assert.ok(!sm2VerifyDigest(pub, Buffer.from(E, 'hex'), Buffer.alloc(64)));
    assert.ok(sm2VerifyDigest(pub, Buffer.from(E, 'hex'), raw));
  });
});
