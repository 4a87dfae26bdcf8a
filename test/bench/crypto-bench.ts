/**
 * npm run bench:crypto — GM algorithm and token signing rates, measured side by side in one run:
 *   SM3: node:crypto path vs pure-JS path vs `openssl speed -evp sm3`
 *   SM2 software sign/verify, native addon and pure JS (sm-crypto-v2), vs `openssl speed sm2`
 *   token sign through the core (TokenService: queue, Z/e, DER) vs a direct pkcs11js C_Sign loop
 * Prints ratios; figures go to docs/BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as p11 from 'pkcs11js';
import { sm3 } from '../../main/core/crypto/sm3';
import {
  generateSm2KeyPair,
  setSm2Backend,
  sm2Backend,
  sm2E,
  sm2Sign,
  sm2Verify,
} from '../../main/core/crypto/sm2';
import type { Sm2Backend } from '../../main/core/crypto/sm2';
import { TokenService } from '../../main/core/token/token-service';
import { parseSpki } from '../../main/core/pki/keys';
import { makeSoftUKey } from '../helpers/dev-tokens';
import { ScriptedHost } from '../helpers/scripted-host';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);

async function rate(fn: () => unknown | Promise<unknown>, seconds = SECONDS): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  let now = t0;
  while (now < end) {
    await fn();
    n++;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - t0) / 1e9);
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const row = (name: string, ours: number, ref: number, unit: string, refName: string): void =>
  console.log(
    `${name.padEnd(34)} ${fmt(ours).padStart(10)} ${unit.padEnd(8)} ${refName.padEnd(28)} ${fmt(ref).padStart(10)} ${unit.padEnd(8)} ratio ${(ours / ref).toFixed(3)}`,
  );

function opensslSm3MBs(): number {
  const out = execFileSync(
    'openssl',
    ['speed', '-seconds', '1', '-evp', 'sm3', '-bytes', '16384'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const m = /^sm3\s+([\d.]+)k/m.exec(out);
  return m ? (Number(m[1]) * 1000) / 1e6 : NaN;
}

function opensslSm2(): { sign: number; verify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', '1', 'sm2'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const m = /SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
  return m ? { sign: Number(m[1]), verify: Number(m[2]) } : { sign: NaN, verify: NaN };
}

async function main(): Promise<void> {
  console.log(
    `bench:crypto — ${process.version}, ${SECONDS}s per measurement, one process, same machine\n`,
  );
  const buf = randomBytes(16384);
  const mb = buf.length / 1e6;
  const nodeSm3 = (await rate(() => sm3(buf, 'node'))) * mb;
  const jsSm3 = (await rate(() => sm3(buf, 'js'))) * mb;
  const osslSm3 = opensslSm3MBs();
  row('SM3 16 KiB, node:crypto path', nodeSm3, osslSm3, 'MB/s', 'openssl speed -evp sm3');
  row('SM3 16 KiB, pure-JS path', jsSm3, osslSm3, 'MB/s', 'openssl speed -evp sm3');

  const kp = generateSm2KeyPair();
  const msg = Buffer.from('benchmark message');
  const sig = sm2Sign(kp, msg);
  const ossl = opensslSm2();
  // Both SM2 backends: the native addon (plain Node) and pure JS (Electron, or no addon built).
  const backends: Sm2Backend[] = sm2Backend() === 'native' ? ['native', 'js'] : ['js'];
  for (const b of backends) {
    setSm2Backend(b);
    row(
      `SM2 sign (software, ${b})`,
      await rate(() => sm2Sign(kp, msg)),
      ossl.sign,
      'ops/s',
      'openssl speed sm2 (sign)',
    );
    row(
      `SM2 verify (software, ${b})`,
      await rate(() => sm2Verify(kp.publicKey, msg, sig)),
      ossl.verify,
      'ops/s',
      'openssl speed sm2 (verify)',
    );
  }
  setSm2Backend(undefined);

  delete process.env.SOFTUKEY_SIGN_DELAY_MS;
  const fx = await makeSoftUKey('SUKBENCH1', 'Bench');
  const svc = new TokenService({
    modules: [fx.lib],
    host: new ScriptedHost({ user: fx.pin }),
    pollIntervalMs: 0,
    loginIdleMs: 600_000,
  });
  const key = await svc.generateKeyPair(fx.serial, 'sm2', 'bench');
  const core = await rate(() =>
    svc.sign({
      ukeyId: fx.serial,
      key: { label: 'bench' },
      message: msg,
      hash: 'sm3',
      reason: 'bench',
    }),
  );
  svc.close();

  // The same signature with nothing around it: pkcs11js straight onto the module.
  const api = new p11.PKCS11();
  api.load(fx.lib);
  api.C_Initialize();
  const [slot] = api.C_GetSlotList(true);
  const s = api.C_OpenSession(slot!, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
  api.C_Login(s, p11.CKU_USER, fx.pin);
  api.C_FindObjectsInit(s, [
    { type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY },
    { type: p11.CKA_LABEL, value: 'bench' },
  ]);
  const [priv] = api.C_FindObjects(s, 1);
  api.C_FindObjectsFinal(s);
  const point = parseSpki(key.spki!).sm2Point!;
  const direct = await rate(() => {
    const e = sm2E(point, msg);
    api.C_SignInit(s, { mechanism: 0x80008105 }, priv!);
    return api.C_Sign(s, e, Buffer.alloc(64));
  });
  api.C_Logout(s);
  api.C_Finalize();
  row('token SM2 sign through the core', core, direct, 'ops/s', 'direct pkcs11js C_Sign loop');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
