import type { PinHost, PinKind, PinRequest } from '../../main/core/host';

/** The tests' host: answers PIN requests from a script and records every request it saw. */
export class ScriptedHost implements PinHost {
  readonly asked: PinRequest[] = [];
  private readonly queue: Partial<Record<PinKind, (string | null)[]>> = {};

  constructor(private readonly defaults: Partial<Record<PinKind, string>> = {}) {}

  /** Answers the next request of this kind with pin (null = cancel), once. */
  next(kind: PinKind, pin: string | null): this {
    (this.queue[kind] ??= []).push(pin);
    return this;
  }

  async askPin(req: PinRequest): Promise<string | null> {
    this.asked.push(req);
    const q = this.queue[req.kind];
    if (q && q.length) return q.shift()!;
    return this.defaults[req.kind] ?? null;
  }
}
