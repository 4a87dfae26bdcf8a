// A seal: the head of the chain (seq, hash) and the time, signed by the agent's key, so that
// rewriting the chain (even with recomputed hashes) up to a sealed seq is evident.
import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { parseSpki, verifyWithSpki } from '../pki/keys';
import type { HashName, SignatureProvider } from '../pki/signer';
import { canonicalJson } from './canonical-json';

export interface AuditSeal {
  id: number;
  seq: number;
  /** Hex of the chain hash at seq. */
  hash: string;
  time: number;
  keyAlgorithm: 'sm2' | 'rsa';
  /** SPKI DER of the key that signed. */
  spki: Buffer;
  signature: Buffer;
}

export interface SealRow {
  id: number;
  seq: number;
  hash: Buffer;
  time: number;
  key_algorithm: 'sm2' | 'rsa';
  spki: Buffer;
  signature: Buffer;
}

export const sealOfRow = (r: SealRow): AuditSeal => ({
  id: r.id,
  seq: r.seq,
  hash: r.hash.toString('hex'),
  time: r.time,
  keyAlgorithm: r.key_algorithm,
  spki: r.spki,
  signature: r.signature,
});

/** The signed bytes: UTF-8 of JCS {"hash":hex,"seq":n,"time":ms,"type":"ukey-agent-audit-seal/1"}. */
export const sealMessage = (seq: number, hash: Buffer, time: number): Buffer =>
  Buffer.from(
    canonicalJson({ type: 'ukey-agent-audit-seal/1', seq, hash: hash.toString('hex'), time }),
    'utf8',
  );

const hashFor = (alg: 'sm2' | 'rsa'): HashName => (alg === 'sm2' ? 'sm3' : 'sha256');

export async function signSeal(
  signer: SignatureProvider,
  seq: number,
  hash: Buffer,
  time: number,
): Promise<Buffer> {
  const msg = sealMessage(seq, hash, time);
  const signature = await signer.sign(msg, hashFor(signer.keyAlgorithm));
  // A seal that would not verify later is worse than none: refuse it now.
  if (!verifyWithSpki(signer.spki, msg, signature, hashFor(signer.keyAlgorithm)))
    throw new AgentError(ResultCode.INTERNAL, 'the audit seal signature does not verify');
  return signature;
}

/** Whether the seal's signature verifies with the SPKI it carries. */
export function sealSignatureValid(r: SealRow): boolean {
  try {
    const alg = parseSpki(r.spki).algorithm;
    if (alg !== 'sm2' && alg !== 'rsa') return false;
    return verifyWithSpki(r.spki, sealMessage(r.seq, r.hash, r.time), r.signature, hashFor(alg));
  } catch {
    return false;
  }
}
