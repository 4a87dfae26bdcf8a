import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair, sm2Sign } from '../../main/core/crypto/sm2';
import {
  derToPem,
  parseSpki,
  pemToDer,
  rsaSpki,
  sm2Spki,
  spkiToPem,
  verifyWithSpki,
} from '../../main/core/pki/keys';
import { formatName, nameFields, nameToDer, parseName } from '../../main/core/pki/names';
import { softwareRsaProvider, softwareSm2Provider } from '../../main/core/pki/signer';

const dir = mkdtempSync(join(tmpdir(), 'pki-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** openssl with stdout+stderr captured; throws with the output if it exits non-zero. */
function openssl(args: string[]): string {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}
const write = (name: string, data: Buffer | string): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));

describe('pki keys', () => {
  it('builds the GM/T 0015 SM2 SPKI that openssl pkey reads', () => {
    const key = generateSm2KeyPair();
    const spki = sm2Spki(key.publicKey);
    const text = openssl([
      'pkey',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      write('sm2.der', spki),
      '-text',
      '-noout',
    ]);
    assert.match(text, /ASN1 OID: SM2/);
    const hex = /pub:\s*([0-9a-f:\s]+)ASN1/.exec(text)?.[1]?.replace(/[\s:]/g, '');
    assert.equal(hex, key.publicKey.toString('hex'));
    // And OpenSSL's own SM2 SPKI encoding is byte-identical to ours.
    const again = execFileSync('openssl', [
      'pkey',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      write('sm2b.der', spki),
      '-outform',
      'DER',
    ]);
    assert.deepEqual(again, spki);

    const info = parseSpki(spki);
    assert.equal(info.algorithm, 'sm2');
    assert.deepEqual(info.sm2Point, key.publicKey);
    assert.equal(info.curveOid, '1.2.156.10197.1.301');
  });

  it('builds RSA SPKIs identical to node:crypto and parses them back', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const info = parseSpki(der);
    assert.equal(info.algorithm, 'rsa');
    assert.equal(info.rsa?.bits, 2048);
    assert.equal(info.rsa?.publicExponent.toString('hex'), '010001');
    assert.equal(info.rsa!.modulus[0]! & 0x80, 0x80, 'the sign octet is stripped');
    assert.deepEqual(rsaSpki(info.rsa!.modulus, info.rsa!.publicExponent), der);
  });

  it('reports other EC curves as ec with their curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const info = parseSpki(publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(info.algorithm, 'ec');
    assert.equal(info.curveOid, '1.2.840.10045.3.1.7');
  });

  it('rejects garbage with BAD_PARAM', () => {
    assert.throws(
      () => parseSpki(Buffer.from('3003020100', 'hex')),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => parseSpki(Buffer.from('not der')),
      (e) => codeOf(e) === '1001',
    );
  });

  it('PEM armour round-trips and checks the label', () => {
    const spki = sm2Spki(generateSm2KeyPair().publicKey);
    const pem = spkiToPem(spki);
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.deepEqual(pemToDer(pem), spki);
    assert.deepEqual(pemToDer(`junk\n${pem}`, 'PUBLIC KEY'), spki);
    assert.deepEqual(pemToDer(derToPem(spki, 'X')), spki);
    assert.throws(
      () => pemToDer(pem, 'CERTIFICATE'),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => pemToDer('no pem here'),
      (e) => codeOf(e) === '1001',
    );
  });

  it('verifies SM2 signatures from our provider and from OpenSSL', async () => {
    const key = generateSm2KeyPair();
    const provider = softwareSm2Provider(key);
    const msg = Buffer.from('盖章文件 digest input');
    const sig = await provider.sign(msg, 'sm3');
    assert.ok(verifyWithSpki(provider.spki, msg, sig, 'sm3'));
    assert.ok(!verifyWithSpki(provider.spki, Buffer.concat([msg, Buffer.from('x')]), sig, 'sm3'));
    await assert.rejects(provider.sign(msg, 'sha256'), (e) => codeOf(e) === '1001');
    assert.throws(
      () => verifyWithSpki(provider.spki, msg, sig, 'sha256'),
      (e) => codeOf(e) === '1001',
    );

    // OpenSSL signs with the default ID only when told to (its own default is an empty ID).
    const keyPem = write('sm2key.pem', openssl(['genpkey', '-algorithm', 'SM2']));
    const pub = execFileSync('openssl', ['pkey', '-in', keyPem, '-pubout', '-outform', 'DER']);
    const osslSig = execFileSync('openssl', [
      'pkeyutl',
      '-sign',
      '-rawin',
      '-digest',
      'sm3',
      '-inkey',
      keyPem,
      '-in',
      write('msg.bin', msg),
      '-pkeyopt',
      'distid:1234567812345678',
    ]);
    assert.ok(verifyWithSpki(pub, msg, osslSig, 'sm3'));
    // ...and our signature verifies in OpenSSL.
    const out = openssl([
      'pkeyutl',
      '-verify',
      '-rawin',
      '-digest',
      'sm3',
      '-pubin',
      '-inkey',
      write('ours.pem', spkiToPem(provider.spki)),
      '-in',
      write('msg2.bin', msg),
      '-sigfile',
      write('ours.sig', sig),
      '-pkeyopt',
      'distid:1234567812345678',
    ]);
    assert.match(out, /Signature Verified Successfully/);
    assert.ok(readFileSync(join(dir, 'ours.sig')).equals(sig));
  });

  it('verifies RSA PKCS #1 v1.5 signatures for each hash', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const provider = softwareRsaProvider(privateKey);
    assert.deepEqual(
      provider.spki,
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    );
    const msg = Buffer.from('document');
    for (const hash of ['sha256', 'sha1', 'md5'] as const) {
      const sig = await provider.sign(msg, hash);
      assert.deepEqual(sig, nodeSign(hash, msg, privateKey));
      assert.ok(verifyWithSpki(provider.spki, msg, sig, hash), hash);
      assert.ok(!verifyWithSpki(provider.spki, Buffer.from('other'), sig, hash), hash);
    }
    const sig = await provider.sign(msg, 'sha256');
    assert.ok(!verifyWithSpki(provider.spki, msg, sig, 'sha1'), 'the hash is bound');
    await assert.rejects(provider.sign(msg, 'sm3'), (e) => codeOf(e) === '1001');
    assert.throws(
      () => softwareRsaProvider(createPublicKey(privateKey)),
      (e) => codeOf(e) === '1001',
    );
  });

  it('does not accept an SM2 signature made over another key', () => {
    const a = generateSm2KeyPair();
    const b = generateSm2KeyPair();
    const msg = Buffer.from('m');
    assert.ok(!verifyWithSpki(sm2Spki(b.publicKey), msg, sm2Sign(a, msg), 'sm3'));
  });
});

describe('pki names', () => {
  it('parses RFC 4514 text most-specific first and formats it back', () => {
    const text = 'CN=张三,O=Example Bank,OU=Ops,C=CN';
    const name = parseName(text);
    // DER order is the reverse: C first.
    assert.deepEqual(
      [...name].map((rdn) => rdn[0]!.type),
      ['2.5.4.6', '2.5.4.11', '2.5.4.10', '2.5.4.3'],
    );
    assert.equal(name[0]![0]!.value.printableString, 'CN');
    assert.equal(name[3]![0]!.value.utf8String, '张三');
    assert.equal(formatName(name), text);
    assert.deepEqual(nameFields(name), { CN: '张三', O: 'Example Bank', OU: 'Ops', C: 'CN' });
  });

  it('reads the OpenSSL /C=.../CN=... form in DER order', () => {
    const a = parseName('/C=CN/OU=Ops/O=Example Bank/CN=张三');
    const b = parseName('CN=张三, O=Example Bank, OU=Ops, C=CN');
    assert.deepEqual(nameToDer(a), nameToDer(b));
  });

  it('handles the other attributes, escapes and multi-valued RDNs', () => {
    const name = parseName(
      'emailAddress=ops@example.cn,SERIALNUMBER=91110000X,CN=Smith\\, John+UID=u1,L=北京,ST=北京市,O=A\\+B \\"Q\\",C=CN',
    );
    // The multi-valued RDN comes back in DER (SET OF) order.
    assert.equal(
      formatName(name),
      'emailAddress=ops@example.cn,SERIALNUMBER=91110000X,UID=u1+CN=Smith\\, John,L=北京,ST=北京市,O=A\\+B \\"Q\\",C=CN',
    );
    const fields = nameFields(name);
    assert.equal(fields.CN, 'Smith, John');
    assert.equal(fields.O, 'A+B "Q"');
    assert.equal(fields.emailAddress, 'ops@example.cn');
    const email = name.find((rdn) => rdn[0]!.type === '1.2.840.113549.1.9.1')!;
    assert.equal(email[0]!.value.ia5String, 'ops@example.cn');
    // Hex escapes are UTF-8 octets; a protected leading space survives.
    assert.equal(nameFields(parseName('CN=\\E5\\BC\\A0\\E4\\B8\\89')).CN, '张三');
    assert.equal(nameFields(parseName('CN=\\ x')).CN, ' x');
    assert.equal(formatName(parseName('CN=\\ x')), 'CN=\\ x');
    assert.equal(nameFields(parseName('E=a@b.cn,2.5.4.3=by oid')).CN, 'by oid');
  });

  it('rejects what it cannot encode', () => {
    for (const bad of [
      '',
      'CN',
      'XYZ=1',
      'C=China',
      'C=中国',
      'CN=',
      'emailAddress=张@x',
      'CN=a\\',
    ]) {
      assert.throws(
        () => parseName(bad),
        (e) => codeOf(e) === '1001',
        bad,
      );
    }
  });
});
