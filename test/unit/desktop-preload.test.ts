import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exposeOperatorApi } from '../../main/preload/preload';
import type { IpcRendererLike } from '../../main/preload/preload';
import type { OperatorApiClient, OperatorMethod } from '../../main/common/operator-api';

type L = (event: unknown, ...args: unknown[]) => void;

function fakes() {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const listeners = new Map<string, Set<L>>();
  const ipc: IpcRendererLike = {
    invoke: async (...args) => {
      invoked.push(args);
      return { code: '0', message: 'ok', data: [] };
    },
    on: (c, l) => listeners.set(c, (listeners.get(c) ?? new Set()).add(l)),
    removeListener: (c, l) => listeners.get(c)?.delete(l),
  };
  exposeOperatorApi({ exposeInMainWorld: (k, api) => exposed.set(k, api) }, ipc);
  return { api: exposed.get('operatorApi') as OperatorApiClient, exposed, invoked, listeners };
}

describe('preload: window.operatorApi', () => {
  it('exposes one frozen object with invoke and on only', () => {
    const { api, exposed } = fakes();
    assert.deepEqual([...exposed.keys()], ['operatorApi']);
    assert.deepEqual(Object.keys(api).sort(), ['invoke', 'on']);
    assert.ok(Object.isFrozen(api));
  });

  it('invokes allowlisted methods on their channel, and nothing else', async () => {
    const { api, invoked } = fakes();
    const r = await api.invoke('keys.list', {});
    assert.equal(r.code, '0');
    await api.invoke('settings.modules', {});
    assert.deepEqual(invoked, [
      ['operator:keys.list', {}],
      ['operator:settings.modules', {}],
    ]);
    const refused = await api.invoke('shell.exec' as OperatorMethod, {} as never);
    assert.equal(refused.code, '1001');
    await api.invoke('__proto__' as OperatorMethod, {} as never);
    assert.equal(invoked.length, 2);
  });

  it('subscribes to allowlisted events, passes the payload only, and unsubscribes', () => {
    const { api, listeners } = fakes();
    const got: unknown[] = [];
    const off = api.on('key.inserted', (p) => got.push(p));
    const set = listeners.get('operator-event:key.inserted')!;
    assert.equal(set.size, 1);
    for (const l of set) l({ sender: 'the ipc event must not leak' }, { ukeyId: 'k1' });
    assert.deepEqual(got, [{ ukeyId: 'k1' }]);
    off();
    assert.equal(set.size, 0);
    assert.throws(
      () => api.on('ipc.raw' as 'key.inserted', () => undefined),
      /unknown operator event/,
    );
  });

  it("with Electron's webUtils, adds pathOfFile: a dropped file's path, '' for anything else", () => {
    const exposed = new Map<string, unknown>();
    const ipc: IpcRendererLike = {
      invoke: async () => ({ code: '0', message: 'ok', data: null }),
      on: () => undefined,
      removeListener: () => undefined,
    };
    const dropped = { name: 'contract.pdf' };
    exposeOperatorApi({ exposeInMainWorld: (k, api) => exposed.set(k, api) }, ipc, {
      getPathForFile: (f) => {
        if (f !== dropped) throw new TypeError('not a File');
        return '/home/signer/contract.pdf';
      },
    });
    const api = exposed.get('operatorApi') as OperatorApiClient;
    assert.deepEqual(Object.keys(api).sort(), ['invoke', 'on', 'pathOfFile']);
    assert.ok(Object.isFrozen(api));
    assert.equal(api.pathOfFile!(dropped), '/home/signer/contract.pdf');
    assert.equal(api.pathOfFile!({ name: 'forged' }), '');
  });
});
