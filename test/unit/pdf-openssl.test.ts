import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractPdfSignatures } from '../../main/core/pdf/extract';
import { signedBytes } from '../../main/core/pdf/prepare';
import { derToPem } from '../../main/core/pki/keys';
import { files, openssl } from '../helpers/openssl';
import { samplePdf, sealPng, signPdf, testPki } from '../helpers/pdf-fixtures';

// OpenSSL 3.0 cannot read GB/T 35275 (SM2) P7s, so only the RSA signature is checked this way.
describe('pdf RSA signature against openssl cms -verify', () => {
  it('verifies the extracted P7 over the ByteRange bytes, and rejects changed bytes', async () => {
    const pki = await testPki('rsa');
    const { signed } = await signPdf(await samplePdf(), pki, { sealImagePng: sealPng() });
    const [sig] = extractPdfSignatures(signed);
    assert.ok(sig);
    const content = signedBytes(signed, sig.byteRange);
    const changed = Buffer.from(content);
    changed[100]! ^= 0x01;
    const f = files({
      'sig.p7': sig.contents,
      'signed-bytes.bin': content,
      'changed.bin': changed,
      'ca.pem': derToPem(pki.caCert, 'CERTIFICATE'),
    });
    const verify = (contentFile: string): { ok: boolean; out: string } =>
      openssl([
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        f['sig.p7']!,
        '-content',
        contentFile,
        '-CAfile',
        f['ca.pem']!,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
    const good = verify(f['signed-bytes.bin']!);
    assert.ok(good.ok, good.out);
    assert.match(good.out, /Verification successful/);
    const bad = verify(f['changed.bin']!);
    assert.equal(bad.ok, false, bad.out);
  });
});
