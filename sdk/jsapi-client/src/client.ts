import { ClientErrorCode, ResultCode } from './codes.js';
import { AgentError } from './errors.js';
import { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from '../../../main/common/jsapi';
import type {
  AgentStatus,
  PairRequest,
  PairResult,
  UKeyInfo,
  UKeyInfoRequest,
  UKeySignRequest,
  WsEvent,
  WsMethod,
} from '../../../main/common/jsapi';

export interface ReconnectOptions {
  /** First delay after a drop; doubles per failed try up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface AgentClientOptions {
  /** The agent's JSAPI port (default 18788). */
  port?: number;
  /** Hosts tried in order (default 127.0.0.1, then localhost). The agent refuses any other. */
  hosts?: string[];
  /** Timeout of status and ukey.info calls (default 15 s). */
  timeoutMs?: number;
  /** Timeout of ukey.sign (default 120 s: the signer approves it and may type a PIN). */
  signTimeoutMs?: number;
  /** Timeout of each discovery probe and WebSocket handshake (default 3 s). */
  probeTimeoutMs?: number;
  /** Use the WebSocket (calls and hot-plug events); false: HTTP only (default true). */
  webSocket?: boolean;
  /** Reconnect a dropped WebSocket with backoff (default on; false turns it off). */
  reconnect?: boolean | ReconnectOptions;
}

export interface CallOptions {
  timeoutMs?: number;
}

export interface AgentEventMap {
  'ukey.inserted': { UKeyId: string };
  'ukey.removed': { UKeyId: string };
  /** The WebSocket is open (after connect() and after every reconnect). */
  connected: { url: string };
  /** An open WebSocket closed; `reconnecting` says whether the client will retry. */
  disconnected: { code: number; reason: string; reconnecting: boolean };
}

export type AgentEventName = keyof AgentEventMap;
export type AgentEventListener<K extends AgentEventName> = (data: AgentEventMap[K]) => void;

export type Transport = 'ws' | 'http' | 'none';

interface Pending {
  resolve: (data: unknown) => void;
  reject: (e: AgentError) => void;
  timer: ReturnType<typeof setTimeout>;
}

// The agent answers 1006 beyond 8 calls in flight on one connection; more go over HTTP.
const MAX_WS_IN_FLIGHT = 8;

/**
 * The web page's side of the JSAPI: finds the local agent, calls ukey.info / ukey.sign / status
 * over the WebSocket when it is open (else HTTP), and relays hot-plug events. Requests must be
 * signed by the app's server (canonicalString); the page never holds the app key or a PIN.
 */
export class AgentClient {
  private readonly port: number;
  private readonly hosts: string[];
  private readonly timeoutMs: number;
  private readonly signTimeoutMs: number;
  private readonly probeTimeoutMs: number;
  private readonly useWs: boolean;
  private readonly reconnect: Required<ReconnectOptions> | undefined;
  private host: string | undefined;
  private ws: WebSocket | undefined;
  private wsOpen = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /**
   * Frames sent and not yet answered by the agent, as the agent counts them (8 per connection):
   * a call that timed out here is still in flight there until its answer arrives.
   */
  private readonly unanswered = new Set<number>();
  private readonly listeners = new Map<AgentEventName, Set<(data: never) => void>>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private closed = false;

  constructor(opts: AgentClientOptions = {}) {
    this.port = opts.port ?? DEFAULT_JSAPI_PORT;
    this.hosts = opts.hosts ?? ['127.0.0.1', 'localhost'];
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.signTimeoutMs = opts.signTimeoutMs ?? 120_000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 3_000;
    this.useWs = opts.webSocket ?? typeof WebSocket !== 'undefined';
    const r = opts.reconnect ?? true;
    this.reconnect =
      r === false
        ? undefined
        : {
            initialDelayMs: (r === true ? undefined : r.initialDelayMs) ?? 250,
            maxDelayMs: (r === true ? undefined : r.maxDelayMs) ?? 10_000,
          };
  }

  /** How calls currently travel: 'ws' when the WebSocket is open, 'http' after discovery. */
  get transport(): Transport {
    if (this.closed) return 'none';
    if (this.wsOpen) return 'ws';
    return this.host === undefined ? 'none' : 'http';
  }

  /** The agent's base URL once discovered. */
  get baseUrl(): string | undefined {
    return this.host === undefined ? undefined : `http://${this.host}:${this.port}`;
  }

  /**
   * Finds the agent (GET /api/v1/status on each host in turn) and opens the WebSocket. Rejects
   * with AGENT_UNREACHABLE when no host answers. A WebSocket that cannot open leaves the client on
   * HTTP, retrying the socket in the background.
   */
  async connect(): Promise<AgentStatus> {
    this.closed = false;
    const status = await this.discover();
    if (this.useWs && !this.wsOpen) {
      try {
        await this.openSocket();
      } catch {
        this.scheduleReconnect();
      }
    }
    return status;
  }

  /** Agent version and number of keys present. */
  async status(opts: CallOptions = {}): Promise<AgentStatus> {
    if (this.wsOpen) return (await this.callWs('status', {}, opts)) as AgentStatus;
    if (this.host === undefined) return this.discover();
    return (await this.httpCall('GET', JSAPI_PATHS.status, undefined, opts)) as AgentStatus;
  }

  /** Table 21 → table 23: the key's signing ('1') or encryption ('2') certificate. */
  async getUKeyInfo(req: UKeyInfoRequest, opts: CallOptions = {}): Promise<UKeyInfo> {
    return (await this.call('ukey.info', JSAPI_PATHS.info, req, opts)) as UKeyInfo;
  }

  /** Table 19 → table 20: the Base64 signature (P1) or CMS SignedData (P7). */
  async sign(req: UKeySignRequest, opts: CallOptions = {}): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? this.signTimeoutMs;
    return (await this.call('ukey.sign', JSAPI_PATHS.sign, req, { timeoutMs })) as string;
  }

  /**
   * Extension (docs/JSAPI.md "Pairing"): asks the operator to trust this page's origin for the
   * app whose server signed `req`. Works before the origin is trusted (no discovery: the status
   * call would not answer it). Resolves once trusted; 2003 declined, 2004 no answer in time.
   */
  async pair(req: PairRequest, opts: CallOptions = {}): Promise<PairResult> {
    if (this.closed) throw new AgentError(ClientErrorCode.CLOSED, 'the client was closed');
    const host = this.host ?? this.hosts[0];
    return (await this.fetchEnvelope(
      `http://${host}:${this.port}${JSAPI_PATHS.pair}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(req),
      },
      opts.timeoutMs ?? 130_000,
    )) as PairResult;
  }

  on<K extends AgentEventName>(event: K, cb: AgentEventListener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as (data: never) => void);
    return () => this.off(event, cb);
  }

  off<K extends AgentEventName>(event: K, cb: AgentEventListener<K>): void {
    this.listeners.get(event)?.delete(cb as (data: never) => void);
  }

  /** Closes the WebSocket, stops reconnecting and fails calls in flight with CLOSED. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failPending(ClientErrorCode.CLOSED, 'the client was closed');
    const ws = this.ws;
    this.ws = undefined;
    this.wsOpen = false;
    ws?.close(1000);
  }

  private emit<K extends AgentEventName>(event: K, data: AgentEventMap[K]): void {
    for (const cb of [...(this.listeners.get(event) ?? [])]) {
      try {
        (cb as AgentEventListener<K>)(data);
      } catch {
        // A listener's fault must not break the client's own bookkeeping.
      }
    }
  }

  private async discover(): Promise<AgentStatus> {
    const hosts = this.host === undefined ? this.hosts : [this.host, ...this.hosts];
    for (const host of new Set(hosts)) {
      try {
        const data = await this.fetchEnvelope(
          `http://${host}:${this.port}${JSAPI_PATHS.status}`,
          { method: 'GET' },
          this.probeTimeoutMs,
        );
        this.host = host;
        return data as AgentStatus;
      } catch (e) {
        // An envelope error means an agent is there but refused: report that, do not hide it.
        if (e instanceof AgentError && /^\d+$/.test(e.code)) throw e;
      }
    }
    throw new AgentError(
      ClientErrorCode.UNREACHABLE,
      `no UKey agent answered on port ${this.port} (not running, or this page's origin is not registered with it)`,
    );
  }

  private call(method: WsMethod, path: string, body: object, opts: CallOptions): Promise<unknown> {
    if (this.wsOpen && this.unanswered.size < MAX_WS_IN_FLIGHT)
      return this.callWs(method, body as Record<string, unknown>, opts);
    return this.httpCall('POST', path, body, opts);
  }

  private async httpCall(
    method: 'GET' | 'POST',
    path: string,
    body: object | undefined,
    opts: CallOptions,
  ): Promise<unknown> {
    if (this.closed) throw new AgentError(ClientErrorCode.CLOSED, 'the client was closed');
    if (this.host === undefined) await this.discover();
    const init: { method: string; headers?: Record<string, string>; body?: string } = { method };
    if (body !== undefined) {
      // The agent accepts JSON only (no simple-request CSRF); this makes the browser preflight.
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    return this.fetchEnvelope(`${this.baseUrl}${path}`, init, opts.timeoutMs ?? this.timeoutMs);
  }

  private async fetchEnvelope(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
    timeoutMs: number,
  ): Promise<unknown> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      // No credentials: the agent identifies callers by Origin and the signed body only.
      res = await fetch(url, {
        ...init,
        signal: abort.signal,
        credentials: 'omit',
      });
      text = await res.text();
    } catch {
      throw abort.signal.aborted
        ? new AgentError(ClientErrorCode.TIMEOUT, `no answer from the agent within ${timeoutMs} ms`)
        : new AgentError(ClientErrorCode.UNREACHABLE, 'the agent could not be reached');
    } finally {
      clearTimeout(timer);
    }
    const env = parseEnvelope(text);
    if (!env)
      throw new AgentError(
        ClientErrorCode.BAD_ANSWER,
        `unexpected answer (HTTP ${res.status})`,
        res.status,
      );
    if (env.code !== ResultCode.OK) throw new AgentError(env.code, env.message, res.status);
    return env.data;
  }

  private callWs(
    method: WsMethod,
    params: Record<string, unknown>,
    opts: CallOptions,
  ): Promise<unknown> {
    const ws = this.ws;
    if (!ws || !this.wsOpen)
      return Promise.reject(new AgentError(ClientErrorCode.DISCONNECTED, 'not connected'));
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new AgentError(
            ClientErrorCode.TIMEOUT,
            `no answer from the agent within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.unanswered.add(id);
      ws.send(JSON.stringify({ id, method, params }));
    });
  }

  private openSocket(): Promise<void> {
    const url = `ws://${this.host}:${this.port}${JSAPI_PATHS.ws}`;
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url);
      } catch {
        reject(new AgentError(ClientErrorCode.UNREACHABLE, 'the WebSocket could not be opened'));
        return;
      }
      this.ws = ws;
      let opened = false;
      const handshake = setTimeout(() => ws.close(), this.probeTimeoutMs);
      ws.onopen = () => {
        clearTimeout(handshake);
        if (this.closed || this.ws !== ws) {
          ws.close(1000);
          return;
        }
        opened = true;
        this.wsOpen = true;
        this.attempts = 0;
        this.emit('connected', { url });
        resolve();
      };
      ws.onmessage = (ev) => this.onFrame(ev.data);
      ws.onclose = (ev) => {
        clearTimeout(handshake);
        if (this.ws !== ws) return;
        this.ws = undefined;
        this.wsOpen = false;
        this.failPending(ClientErrorCode.DISCONNECTED, 'the connection to the agent was lost');
        const reconnecting = !this.closed && this.reconnect !== undefined;
        if (opened) this.emit('disconnected', { code: ev.code, reason: ev.reason, reconnecting });
        else reject(new AgentError(ClientErrorCode.UNREACHABLE, 'the WebSocket was refused'));
        if (reconnecting) this.scheduleReconnect();
      };
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || !this.reconnect || this.retryTimer !== undefined || this.wsOpen) return;
    const { initialDelayMs, maxDelayMs } = this.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempts);
    // Jitter so that many tabs do not reconnect in lockstep.
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.wsOpen) return;
      // onclose of a failed try schedules the next one.
      this.openSocket().catch(() => undefined);
    }, delay);
  }

  private onFrame(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let f: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!parsed || typeof parsed !== 'object') return;
      f = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if (f.event === 'ukey.inserted' || f.event === 'ukey.removed') {
      const data = f.data as WsEvent['data'] | undefined;
      if (data && typeof data.UKeyId === 'string') this.emit(f.event, { UKeyId: data.UKeyId });
      return;
    }
    if (typeof f.id !== 'number') return;
    this.unanswered.delete(f.id);
    const p = this.pending.get(f.id);
    if (!p) return;
    this.pending.delete(f.id);
    clearTimeout(p.timer);
    if (f.code === ResultCode.OK) p.resolve(f.data);
    else if (typeof f.code === 'string')
      p.reject(new AgentError(f.code, typeof f.message === 'string' ? f.message : ''));
    else p.reject(new AgentError(ClientErrorCode.BAD_ANSWER, 'unexpected answer frame'));
  }

  private failPending(code: ClientErrorCode, message: string): void {
    this.unanswered.clear(); // the connection is gone, and the agent's count with it
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new AgentError(code, message));
    }
  }
}

function parseEnvelope(text: string): { code: string; message: string; data: unknown } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object') return undefined;
    const e = v as Record<string, unknown>;
    if (typeof e.code !== 'string') return undefined;
    return { code: e.code, message: typeof e.message === 'string' ? e.message : '', data: e.data };
  } catch {
    return undefined;
  }
}
