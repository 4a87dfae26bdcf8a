/**
 * npm run bench:bridge — the JSAPI bridge measured against the token it drives, in one run:
 *   sign latency p50/p99 through the bridge (HTTP, caller checks, platform signId round trip,
 *   standing policy, token, audit-free) vs the direct token call (TokenService.sign);
 *   batch throughput through the bridge (8 callers in parallel) vs a direct pkcs11js C_Sign loop.
 * The reference platform runs in a child process, as a remote platform would. Run once with the
 * software key at CPU speed and once with BENCH_DELAY_MS (a hardware UKey signs in tens of ms).
 * Also prints the CPU each process spent per batch signature (what bounds throughput on 2 cores)
 * and the SM2 backend. Env: BENCH_N (sequential), BENCH_BATCH, BENCH_CPU_PROFILE=file (the
 * agent's V8 profile of the batch; `node --cpu-prof` profiles the platform child as well).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as p11 from 'pkcs11js';
import { generateSm2KeyPair, sm2Backend, sm2E } from '../../main/core/crypto/sm2';
import { sm2Spki, parseSpki } from '../../main/core/pki/keys';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { JsapiService } from '../../main/core/bridge/jsapi-service';
import { startBridge } from '../../main/core/bridge/bridge-server';
import { TokenService } from '../../main/core/token/token-service';
import { makeSoftUKey, tempDir } from '../helpers/dev-tokens';
import { ScriptedHost } from '../helpers/scripted-host';
import { ScriptedApprovals, postJson, signed } from '../helpers/agent-harness';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { buildCsr } from '../../main/core/pki/csr';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { ukeySealFiling } from '../platform/fixture';

const N = Number(process.env.BENCH_N ?? 300);
const ORIGIN = 'https://bench.example';

const platformMs: number[] = [];
/** Times the platform round trip, to tell the agent's own overhead from the platform's. */
function timedPlatform(
  c: ReturnType<typeof createPlatformClient>,
): Pick<ReturnType<typeof createPlatformClient>, 'verifySignId'> {
  return {
    verifySignId: async (p) => {
      const t = process.hrtime.bigint();
      try {
        return await c.verifySignId(p);
      } finally {
        platformMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    },
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number): string => x.toFixed(2).padStart(7) + ' ms';

/** BENCH_CPU_PROFILE=file: a V8 CPU profile of the agent during the batch only. */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) =>
      session.post(method, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** A child's user+system CPU time in ms (Linux /proc; NaN elsewhere). */
function childCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const load0 = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  // 0: the software key is as fast as the CPU; set BENCH_DELAY_MS to sign as slowly as hardware.
  const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
  process.env.SOFTUKEY_SIGN_DELAY_MS = String(delayMs);
  const fx = await makeSoftUKey('SUKBENCH2', 'Bench');
  const tokens = new TokenService({
    modules: [fx.lib],
    host: new ScriptedHost({ user: fx.pin }),
    pollIntervalMs: 0,
    loginIdleMs: 600_000,
  });
  await tokens.generateKeyPair(fx.serial, 'sm2', 'sign');
  const caSigner = softwareSm2Provider(generateSm2KeyPair());
  const ca = issuerFromCertificate(
    await selfSignedCa({ subject: 'CN=Bench CA', signer: caSigner }),
    caSigner,
  );
  const csr = await buildCsr({
    subject: 'CN=Bench',
    signer: await tokens.provider(fx.serial, { label: 'sign' }, 'b'),
  });
  const cert = await tokens.importCertificate(
    fx.serial,
    await certificateFromCsr(csr, ca, { keyUsage: ['digitalSignature'] }),
    'sign',
  );

  const web = generateSm2KeyPair();
  const agent = generateSm2KeyPair();
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv, // e.g. --cpu-prof profiles the platform too
      join(__dirname, 'platform-child.js'),
      tempDir('bench-platform'),
      JSON.stringify([
        { appId: 'webapp', publicKeyHex: web.publicKey.toString('hex') },
        { appId: 'agent', publicKeyHex: agent.publicKey.toString('hex') },
      ]),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', resolve),
  );
  const { url, cert: platformCert } = JSON.parse(line) as { url: string; cert: string };
  const platformKey = Buffer.from(platformCert, 'base64');
  const webClient = createPlatformClient({
    baseUrl: url,
    signer: sm2RequestSigner('webapp', web),
    platformKey,
  });
  const sealCode = await webClient.fileSeal(
    ukeySealFiling({ UKeyId: fx.serial, certNumber: cert.info.serialNumberHex }),
  );
  const signIds: string[] = [];
  // The batch at CPU speed is long enough (~1-2 s) for the JIT to settle; at hardware speed N is.
  const batch = Number(process.env.BENCH_BATCH ?? (delayMs > 0 ? N + 10 : 1000));
  for (let i = 0; i < N + 10 + batch; i++) {
    const [s] = await webClient.querySeals({
      orgCode: '91110000MA00000001',
      sealType: '0',
      UKeyId: fx.serial,
    });
    signIds.push(s!.signId);
  }

  const caller = generateSm2KeyPair();
  const callerSigner = sm2RequestSigner('bench-web', caller);
  // As a registry holds it: built once, not per request.
  const callerApp = { appId: 'bench-web', publicKey: sm2Spki(caller.publicKey), origins: [ORIGIN] };
  const apps = {
    get: (id: string) => (id === 'bench-web' ? callerApp : undefined),
    isOriginAllowed: (_id: string, o: string) => o === ORIGIN,
    isKnownOrigin: (o: string) => o === ORIGIN,
  };
  const service = new JsapiService({
    tokens,
    apps,
    platform: timedPlatform(
      createPlatformClient({ baseUrl: url, signer: sm2RequestSigner('agent', agent), platformKey }),
    ),
    host: new ScriptedApprovals(),
    policies: { consume: () => ({ id: 'bench-policy' }) },
  });
  const bridge = await startBridge({
    service,
    apps,
    tokens,
    port: 0,
    ratePerSecond: 1e6,
    rateBurst: 1e6,
  });
  const docHash = Buffer.alloc(32, 5);
  // Caller requests are signed ahead: signing them is the web app server's cost, not the agent's.
  const bodies = [];
  for (let i = 0; i < signIds.length; i++) {
    bodies.push(
      await signed(callerSigner, {
        signId: signIds[i],
        sealCode,
        docHash: docHash.toString('base64'),
        UKeyId: fx.serial,
      }),
    );
  }

  for (let i = 0; i < 20; i++)
    await tokens.sign({ ukeyId: fx.serial, message: docHash, hash: 'sm3', reason: 'warm' });
  const direct: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await tokens.sign({ ukeyId: fx.serial, message: docHash, hash: 'sm3', reason: 'bench' });
    direct.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  let next = 0;
  for (let i = 0; i < 10; i++)
    await postJson(bridge.port, '/api/v1/ukey/sign', bodies[next++], ORIGIN);
  platformMs.length = 0;
  const viaBridge: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    const r = await postJson(bridge.port, '/api/v1/ukey/sign', bodies[next++], ORIGIN);
    viaBridge.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.json.code !== '0') throw new Error(`bridge answered ${r.json.code} ${r.json.message}`);
  }

  const platformSeq = [...platformMs];
  // Throughput: 8 callers in parallel through the bridge vs a bare pkcs11js loop on the same key.
  const rest = bodies.slice(next);
  const cpu0 = { agent: process.cpuUsage(), platform: childCpuMs(child.pid) };
  platformMs.length = 0;
  const profiler = await startProfile();
  const batchMs: number[] = [];
  const t0 = process.hrtime.bigint();
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let b = rest.pop(); b; b = rest.pop()) {
        const tb = process.hrtime.bigint();
        const r = await postJson(bridge.port, '/api/v1/ukey/sign', b, ORIGIN);
        batchMs.push(Number(process.hrtime.bigint() - tb) / 1e6);
        if (r.json.code !== '0') throw new Error(`bridge answered ${r.json.code}`);
        done++;
      }
    }),
  );
  const bridgeRate = done / (Number(process.hrtime.bigint() - t0) / 1e9);
  const agentCpu = process.cpuUsage(cpu0.agent);
  await profiler?.();
  const cpuPerSig = {
    agent: (agentCpu.user + agentCpu.system) / 1000 / done,
    platform: (childCpuMs(child.pid) - cpu0.platform) / done,
  };
  await bridge.close();
  tokens.close();

  const api = new p11.PKCS11();
  api.load(fx.lib);
  api.C_Initialize();
  const [slot] = api.C_GetSlotList(true);
  const s = api.C_OpenSession(slot!, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
  api.C_Login(s, p11.CKU_USER, fx.pin);
  api.C_FindObjectsInit(s, [{ type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY }]);
  const [priv] = api.C_FindObjects(s, 1);
  api.C_FindObjectsFinal(s);
  const point = parseSpki(cert.info.spki).sm2Point!;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < done; i++) {
    api.C_SignInit(s, { mechanism: 0x80008105 }, priv!);
    api.C_Sign(s, sm2E(point, docHash), Buffer.alloc(64));
  }
  const directRate = done / (Number(process.hrtime.bigint() - t1) / 1e9);
  api.C_Finalize();
  child.stdin!.end();

  console.log(
    `bench:bridge — ${process.version}, token sign delay ${delayMs} ms, ${N} sequential signatures each way, ${done} in the batch\n`,
  );
  console.log(`                         p50        p99`);
  console.log(`direct token call   ${ms(pct(direct, 50))} ${ms(pct(direct, 99))}`);
  console.log(
    `through the bridge  ${ms(pct(viaBridge, 50))} ${ms(pct(viaBridge, 99))}   (HTTP + caller sign + platform signId round trip + policy + token)`,
  );
  console.log(
    `  of which platform ${ms(pct(platformSeq, 50))} ${ms(pct(platformSeq, 99))}   (sign-id/verify round trip to the remote platform)`,
  );
  const own = viaBridge.map((v, i) => v - (platformSeq[i] ?? 0));
  console.log(
    `agent overhead      ${ms(pct(own, 50) - pct(direct, 50))} ${ms(pct(own, 99) - pct(direct, 99))}   bridge minus platform minus direct token call; goal: p99 ≤ 5 ms`,
  );
  console.log(
    `\nbatch throughput: bridge ${bridgeRate.toFixed(0)} /s, direct pkcs11js loop ${directRate.toFixed(0)} /s, ratio ${(bridgeRate / directRate).toFixed(3)}   goal ≥ 0.5`,
  );
  console.log(
    `  batch latency p50 ${pct(batchMs, 50).toFixed(2)} ms, of which platform p50 ${pct(platformMs, 50).toFixed(2)} ms`,
  );
  console.log(
    `  CPU per batch signature: agent ${cpuPerSig.agent.toFixed(2)} ms (incl. token), platform ${cpuPerSig.platform.toFixed(2)} ms; direct loop ${(1000 / directRate).toFixed(2)} ms`,
  );
  console.log(
    `  SM2 backend ${sm2Backend()}; load average before/after ${load0} / ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
