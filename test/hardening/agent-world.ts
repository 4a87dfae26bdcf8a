import { connect } from 'node:net';
import WebSocket from 'ws';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import type { RequestSigner } from '../../main/core/platform/canonical';
import { createAgent } from '../../main/core/agent';
import type { Agent } from '../../main/core/agent';
import { ScriptedApprovals, http, startWorld } from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';
import { ScriptedHost } from '../helpers/scripted-host';

export const APP_ID = 'hard-web';
export const ORIGINS = [
  'https://seal.example.cn',
  'https://oa.example.cn',
  'http://localhost:18790',
];
export const FOREIGN = 'https://evil.example';
export const SM2_ID = 'SUKDEMO0001';

export interface HardenedAgent {
  world: World;
  agent: Agent;
  port: number;
  signer: RequestSigner;
  approvals: ScriptedApprovals;
  rsaId: string;
  /** What the agent logged as internal faults (never sent to callers): must stay empty. */
  internal: string[];
  close(): Promise<void>;
}

/**
 * The composed agent (createAgent: SQLite store, audit, policies, bridge) in this process, with the
 * demo UKeys and the reference platform of startWorld, and one caller app registered for three
 * origins. Approvals are answered 'approved' by default; the PIN comes from a scripted host.
 */
export async function startHardenedAgent(
  o: { ratePerSecond?: number; rateBurst?: number; approvalTimeoutMs?: number } = {},
): Promise<HardenedAgent> {
  const world = await startWorld();
  world.tokens.close(); // the agent opens its own token service on the same modules
  const pins = new ScriptedHost({ user: world.pki.pin });
  const approvals = new ScriptedApprovals();
  const internal: string[] = [];
  const agent = await createAgent({
    dataDir: tempDir('hardening-agent'),
    port: 0,
    platform: world.agentPlatform,
    host: { askPin: (r) => pins.askPin(r), approve: (r, s) => approvals.approve(r, s) },
    approvalTimeoutMs: o.approvalTimeoutMs ?? 2_000,
    pollIntervalMs: 200,
    ratePerSecond: o.ratePerSecond ?? 100_000,
    rateBurst: o.rateBurst ?? 100_000,
    log: (msg, detail) => internal.push(`${msg} ${JSON.stringify(detail ?? null)}`),
  });
  const key = generateSm2KeyPair();
  agent.store.apps.add({
    appId: APP_ID,
    publicKey: sm2Spki(key.publicKey),
    origins: ORIGINS,
    name: 'hardening caller',
  });
  const rsaId = world.pki.ukeys.find((k) => k.algorithm === 'rsa')!.ukeyId;
  return {
    world,
    agent,
    port: agent.bridge.port,
    signer: sm2RequestSigner(APP_ID, key),
    approvals,
    rsaId,
    internal,
    close: async () => {
      await agent.close();
      await world.platform.close();
    },
  };
}

/** The agent still answers: GET status is 200 / code 0. */
export async function stillAnswers(port: number): Promise<boolean> {
  const r = await http(port, 'GET', '/api/v1/status');
  return r.status === 200 && r.json.code === '0';
}

export interface RawAnswer {
  /** 0 when the connection closed without a status line. */
  status: number;
  head: string;
  body: string;
  /** ms from the first byte written to the close. */
  ms: number;
}

/** Decodes a chunked HTTP/1.1 body (as Node sends answers written with writeHead + end). */
function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const n = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(n) || n === 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}

/**
 * Writes raw bytes to 127.0.0.1:port (whole, or as `pieces` spaced by `gapMs`) and reads until the
 * server closes or `timeoutMs` passes: for requests http.request cannot make (no Host, odd request
 * lines, trickled headers).
 */
export function rawHttp(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  o: { gapMs?: number; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const pieces = Array.isArray(data) ? data : [data];
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    let writer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (writer) clearInterval(writer);
      sock.destroy();
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      const head = (sep < 0 ? all : all.subarray(0, sep)).toString('latin1');
      let body: Buffer = sep < 0 ? Buffer.alloc(0) : all.subarray(sep + 4);
      if (/transfer-encoding:\s*chunked/i.test(head)) body = dechunk(body);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({
        status: m ? Number(m[1]) : 0,
        head,
        body: body.toString('utf8'),
        ms: Date.now() - t0,
      });
    };
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', finish);
    sock.on('error', finish);
    sock.on('end', finish);
    const timer = setTimeout(finish, o.timeoutMs ?? 10_000);
    sock.once('connect', () => {
      if (!o.gapMs) {
        for (const p of pieces) sock.write(p);
        return;
      }
      let i = 0;
      writer = setInterval(() => {
        if (i >= pieces.length || sock.destroyed) return clearInterval(writer);
        sock.write(pieces[i++]!);
      }, o.gapMs);
    });
  });
}

export interface WsClient {
  /** Sends one text frame and resolves with the next answer (events skipped); undefined on timeout or close. */
  ask(text: string, ms?: number): Promise<unknown>;
  /** Whether the connection is still open. */
  open(): boolean;
  close(): void;
}

/** A WebSocket client that asks one frame at a time. */
export async function wsClient(port: number, origin: string): Promise<WsClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`, { headers: { origin } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let waiter: ((v: unknown) => void) | undefined;
  ws.on('message', (d) => {
    let f: unknown;
    try {
      f = JSON.parse(d.toString());
    } catch {
      f = { unparsable: d.toString().slice(0, 200) };
    }
    if (f && typeof f === 'object' && 'event' in f) return;
    const w = waiter;
    waiter = undefined;
    w?.(f);
  });
  ws.on('close', () => waiter?.(undefined));
  ws.on('error', () => undefined);
  return {
    ask: (text, ms = 10_000) =>
      new Promise((resolve) => {
        if (ws.readyState !== ws.OPEN) return resolve(undefined);
        const t = setTimeout(() => resolve(undefined), ms);
        waiter = (v) => {
          clearTimeout(t);
          resolve(v);
        };
        ws.send(text);
      }),
    open: () => ws.readyState === ws.OPEN,
    close: () => ws.close(),
  };
}
