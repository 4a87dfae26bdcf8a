import * as pkcs11js from 'pkcs11js';
import { basename } from 'node:path';
import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { mapPkcs11Error } from './ckr';
import type { VendorProfile } from './vendor-profile';

export type Handle = Buffer;

/** pkcs11js pads fixed-size strings with blanks. */
export const trimPkcs11 = (s: string): string => s.replace(/[\s\0]+$/, '');

export interface SlotToken {
  slot: Handle;
  serial: string;
  label: string;
  manufacturer: string;
  model: string;
  flags: number;
}

/**
 * One loaded vendor module: the thin layer over pkcs11js (graphene's shape), owning C_Initialize /
 * C_Finalize and translating every failure to the contract's error at this boundary.
 */
export class Pkcs11Module {
  readonly api: pkcs11js.PKCS11;
  readonly name: string;
  private mechanisms = new Map<string, Set<number>>();
  private closed = false;

  private constructor(
    readonly path: string,
    public profile: VendorProfile,
  ) {
    this.api = new pkcs11js.PKCS11();
    this.name = basename(path);
  }

  /**
   * Loads (or shares) a module. A library is one process-wide instance behind C_Initialize, so two
   * services on the same library share it and only the last close finalises it.
   */
  static load(path: string, profile: VendorProfile): Pkcs11Module {
    const shared = Pkcs11Module.loaded.get(path);
    if (shared) {
      shared.refs++;
      const view = Object.create(shared.module) as Pkcs11Module;
      Object.defineProperty(view, 'profile', { value: profile, writable: true });
      Object.defineProperty(view, 'closed', { value: false, writable: true });
      return view;
    }
    const m = new Pkcs11Module(path, profile);
    try {
      m.api.load(path);
    } catch {
      // The loader's message names the file system path: keep it in the detail, not the message.
      throw new AgentError(ResultCode.INTERNAL, `cannot load the PKCS#11 module ${m.name}`, {
        path,
      });
    }
    try {
      m.api.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (!String((e as Error).message).startsWith('CKR_CRYPTOKI_ALREADY_INITIALIZED')) {
        try {
          m.api.close();
        } catch {
          /* not loaded */
        }
        throw mapPkcs11Error(e, `initialising ${m.name}`);
      }
    }
    Pkcs11Module.loaded.set(path, { module: m, refs: 1 });
    return m;
  }

  private static readonly loaded = new Map<string, { module: Pkcs11Module; refs: number }>();

  get manufacturer(): string {
    return trimPkcs11(this.api.C_GetInfo().manufacturerID);
  }

  /** Tokens present now; a slot whose token vanished between calls is skipped. */
  presentTokens(): SlotToken[] {
    const out: SlotToken[] = [];
    let slots: Handle[];
    try {
      slots = this.api.C_GetSlotList(true);
    } catch (e) {
      throw mapPkcs11Error(e, `listing slots of ${this.name}`);
    }
    for (const slot of slots) {
      try {
        const t = this.api.C_GetTokenInfo(slot);
        out.push({
          slot,
          serial: trimPkcs11(t.serialNumber),
          label: trimPkcs11(t.label),
          manufacturer: trimPkcs11(t.manufacturerID),
          model: trimPkcs11(t.model),
          flags: t.flags,
        });
      } catch {
        /* removed while we looked, or a corrupt token: not present */
      }
    }
    return out;
  }

  tokenFlags(slot: Handle): number {
    try {
      return this.api.C_GetTokenInfo(slot).flags;
    } catch (e) {
      throw mapPkcs11Error(e, 'reading the key state');
    }
  }

  /** Mechanisms a slot's token supports (probed once per slot: C_GetMechanismList). */
  supports(slot: Handle, mechanism: number): boolean {
    const key = slot.toString('hex');
    let set = this.mechanisms.get(key);
    if (!set) {
      try {
        set = new Set(this.api.C_GetMechanismList(slot));
      } catch (e) {
        throw mapPkcs11Error(e, 'reading the key mechanisms');
      }
      this.mechanisms.set(key, set);
    }
    return set.has(mechanism);
  }

  forgetSlot(slot: Handle): void {
    this.mechanisms.delete(slot.toString('hex'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const entry = Pkcs11Module.loaded.get(this.path);
    if (entry && --entry.refs > 0) return;
    Pkcs11Module.loaded.delete(this.path);
    try {
      this.api.C_Finalize();
    } catch {
      /* already finalised */
    }
    try {
      this.api.close();
    } catch {
      /* library already unloaded */
    }
  }
}
