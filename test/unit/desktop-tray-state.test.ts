import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TrayState, renderTray, trayStatus, trayView } from '../../main/desktop/tray-state';
import type { MenuItemTemplate } from '../../main/desktop/electron-types';

const ASSETS = join(__dirname, '..', '..', '..', 'assets');

class Keys extends EventEmitter {
  ids: string[] = [];
  list = (): string[] => this.ids;
}
class Queue extends EventEmitter {
  items: string[] = [];
  pending = (): string[] => this.items;
}

describe('tray state', () => {
  it('ranks error over waiting requests over keys', () => {
    assert.equal(trayStatus({ keys: 0, pending: 0 }), 'no-key');
    assert.equal(trayStatus({ keys: 2, pending: 0 }), 'key-present');
    assert.equal(trayStatus({ keys: 1, pending: 1 }), 'request-waiting');
    assert.equal(trayStatus({ keys: 1, pending: 1, error: 'bridge down' }), 'error');
  });

  it('names an icon and a bilingual tooltip and menu, Chinese first', () => {
    const v = trayView({ keys: 1, pending: 2 });
    assert.equal(v.icon, 'tray-request-waiting.png');
    assert.match(
      v.tooltip,
      /^UKey 签章助手 \/ UKey Agent — 2 个签名请求待处理 \/ 2 request\(s\) waiting$/,
    );
    assert.deepEqual(
      v.menu.map((m) => [m.id, m.enabled]),
      [
        ['status', false],
        ['open', true],
        ['approvals', true],
        ['quit', true],
      ],
    );
    for (const m of v.menu.slice(1)) assert.match(m.label, /^[^A-Za-z]+ \/ [A-Z]/);
    assert.equal(trayView({ keys: 1, pending: 0 }).menu[2]!.enabled, false);
    assert.ok(trayView({ keys: 0, pending: 0, error: 'x'.repeat(300) }).tooltip.length <= 127);
  });

  it('follows key and approval events, emitting only on visible change', () => {
    const keys = new Keys();
    const queue = new Queue();
    const t = new TrayState(keys, queue);
    const seen: string[] = [];
    t.on('change', (v) => seen.push(v.status));
    assert.equal(t.view().status, 'no-key');
    keys.ids = ['k1'];
    keys.emit('inserted', { ukeyId: 'k1' });
    keys.emit('inserted', { ukeyId: 'k1' }); // no visible change
    queue.items = ['r1'];
    queue.emit('approval.requested');
    queue.items = [];
    queue.emit('approval.resolved');
    t.setError('the JSAPI port is taken');
    t.setError(undefined);
    keys.ids = [];
    keys.emit('removed', { ukeyId: 'k1' });
    assert.deepEqual(seen, [
      'key-present',
      'request-waiting',
      'key-present',
      'error',
      'key-present',
      'no-key',
    ]);
    t.dispose();
    assert.equal(keys.listenerCount('inserted'), 0);
    assert.equal(queue.listenerCount('approval.requested'), 0);
  });

  it('renders a view onto a tray and menu', () => {
    const calls: unknown[] = [];
    let template: MenuItemTemplate[] = [];
    let quit = 0;
    renderTray(
      {
        setImage: (i) => calls.push(['image', i]),
        setToolTip: (t) => calls.push(['tip', t]),
        setContextMenu: (m) => calls.push(['menu', m]),
        on: () => undefined,
        destroy: () => undefined,
      },
      { buildFromTemplate: (t) => ((template = t), { built: true }) },
      trayView({ keys: 0, pending: 0 }),
      {
        iconPath: (f) => `/assets/${f}`,
        actions: {
          open: () => undefined,
          approvals: () => undefined,
          autostart: () => undefined,
          quit: () => quit++,
        },
      },
    );
    assert.deepEqual(calls[0], ['image', '/assets/tray-no-key.png']);
    assert.deepEqual(calls[2], ['menu', { built: true }]);
    assert.deepEqual(
      template.map((t) => t.type ?? t.id),
      ['status', 'separator', 'open', 'approvals', 'separator', 'quit'],
    );
    template.find((t) => t.id === 'quit')!.click!();
    assert.equal(quit, 1);
    assert.equal(template[0]!.click, undefined);
  });

  it('shows start-at-login as a check item once known, and toggles it through its action', () => {
    const keys = new Keys();
    const t = new TrayState(keys, new Queue());
    assert.equal(
      t.view().menu.find((m) => m.id === 'autostart'),
      undefined,
    );
    t.setAutoStart(true);
    let template: MenuItemTemplate[] = [];
    let toggled = 0;
    renderTray(
      {
        setImage: () => undefined,
        setToolTip: () => undefined,
        setContextMenu: () => undefined,
        on: () => undefined,
        destroy: () => undefined,
      },
      { buildFromTemplate: (x) => ((template = x), {}) },
      t.view(),
      {
        iconPath: (f) => f,
        actions: {
          open: () => undefined,
          approvals: () => undefined,
          autostart: () => toggled++,
          quit: () => undefined,
        },
      },
    );
    const item = template.find((m) => m.id === 'autostart')!;
    assert.equal(item.type, 'checkbox');
    assert.equal(item.checked, true);
    assert.match(item.label!, /^开机自动启动 \/ Start at login$/);
    item.click!();
    assert.equal(toggled, 1);
    t.setAutoStart(false);
    assert.equal(t.view().menu.find((m) => m.id === 'autostart')!.checked, false);
    t.dispose();
  });

  it('every status names an icon file that exists in assets/', () => {
    for (const status of ['no-key', 'key-present', 'request-waiting', 'error'] as const) {
      const inputs = {
        'no-key': { keys: 0, pending: 0 },
        'key-present': { keys: 1, pending: 0 },
        'request-waiting': { keys: 1, pending: 1 },
        error: { keys: 0, pending: 0, error: 'x' },
      }[status];
      const v = trayView(inputs);
      assert.equal(v.status, status);
      assert.ok(existsSync(join(ASSETS, v.icon)), v.icon);
      assert.ok(existsSync(join(ASSETS, v.icon.replace('.png', '@2x.png'))), v.icon);
    }
  });
});
