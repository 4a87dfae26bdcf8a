import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import { OPERATOR_METHODS, operatorChannel } from '../../main/common/ipc-channels';
import type { OperatorApi } from '../../main/common/operator-api';
import { registerOperatorIpc } from '../../main/desktop/ipc-router';
import type { IpcMainInvokeEventLike } from '../../main/desktop/electron-types';
import { createEventPublisher } from '../../main/desktop/event-publisher';
import { FakeIpcMain, FakeWebContents, FakeWindow } from './desktop-fakes.test';
import type { BrowserWindowOptions } from '../../main/desktop/electron-types';

function setup() {
  const ipc = new FakeIpcMain();
  const ours = new FakeWebContents();
  const calls: unknown[] = [];
  const service = {
    'keys.list': async (r: unknown) => {
      calls.push(r);
      return [];
    },
    'apps.revoke': async () => {
      throw new AgentError('1001', 'appId x is not registered');
    },
    'settings.get': async () => {
      throw new Error('ENOENT: /home/op/.config/secret/agent.db');
    },
  } as unknown as OperatorApi;
  const logs: string[] = [];
  const dispose = registerOperatorIpc({
    ipcMain: ipc,
    service,
    ownsSender: (c) => c === ours,
    log: (m) => logs.push(m),
  });
  const ev = (
    url = 'app://ukey-agent/index.html',
    sender = ours,
    parent: unknown = null,
  ): IpcMainInvokeEventLike => ({ sender, senderFrame: { url, parent } });
  return { ipc, ev, calls, dispose, logs };
}

describe('operator IPC router', () => {
  it('registers exactly the allowlisted channels, and removes them', () => {
    const { ipc, dispose } = setup();
    assert.deepEqual([...ipc.handlers.keys()].sort(), OPERATOR_METHODS.map(operatorChannel).sort());
    dispose();
    assert.equal(ipc.handlers.size, 0);
  });

  it('answers a checked call with the ok envelope', async () => {
    const { ipc, ev, calls } = setup();
    assert.deepEqual(await ipc.invoke('operator:keys.list', ev(), {}), {
      code: '0',
      message: 'ok',
      data: [],
    });
    assert.deepEqual(calls, [{}]);
  });

  it('refuses senders that are not our top-level renderer, before validating', async () => {
    const { ipc, ev, calls } = setup();
    const refused = {
      code: '1005',
      message: 'this window may not use the operator API',
      data: null,
    };
    assert.deepEqual(
      await ipc.invoke('operator:keys.list', ev('https://evil.example/'), {}),
      refused,
    );
    assert.deepEqual(
      await ipc.invoke('operator:keys.list', ev(undefined, new FakeWebContents()), {}),
      refused,
    );
    assert.deepEqual(
      await ipc.invoke('operator:keys.list', ev(undefined, undefined, { url: 'x' }), {}),
      refused,
    );
    assert.deepEqual(
      await ipc.invoke('operator:keys.list', { sender: ev().sender, senderFrame: null }, {}),
      refused,
    );
    assert.deepEqual(
      await ipc.invoke('operator:keys.list', ev('file:///tmp/index.html'), {}),
      refused,
    );
    assert.equal(calls.length, 0);
  });

  it('refuses malformed payloads with 1001 and never calls the service', async () => {
    const { ipc, ev, calls } = setup();
    const r = (await ipc.invoke('operator:keys.list', ev(), { extra: true })) as { code: string };
    assert.equal(r.code, '1001');
    assert.equal(((await ipc.invoke('operator:keys.list', ev())) as { code: string }).code, '1001');
    assert.equal(
      ((await ipc.invoke('operator:keys.list', ev(), {}, {})) as { code: string }).code,
      '1001',
    );
    assert.equal(calls.length, 0);
  });

  it("passes the agent's errors on as envelopes and hides internal faults", async () => {
    const { ipc, ev, logs } = setup();
    assert.deepEqual(await ipc.invoke('operator:apps.revoke', ev(), { appId: 'x' }), {
      code: '1001',
      message: 'appId x is not registered',
      data: null,
    });
    const r = await ipc.invoke('operator:settings.get', ev(), {});
    assert.deepEqual(r, { code: '5000', message: 'internal error', data: null });
    assert.ok(!JSON.stringify(r).includes('/home'));
    assert.ok(logs.some((l) => l.includes('settings.get')));
  });
});

describe('event publisher', () => {
  it('sends events only to open windows, on the event channel', () => {
    const a = new FakeWindow({} as BrowserWindowOptions);
    const b = new FakeWindow({} as BrowserWindowOptions);
    b.close();
    createEventPublisher(() => [a, b])('key.inserted', { ukeyId: 'k1' });
    assert.deepEqual(a.webContents.sent, [
      { channel: 'operator-event:key.inserted', payload: { ukeyId: 'k1' } },
    ]);
    assert.deepEqual(b.webContents.sent, []);
  });
});
