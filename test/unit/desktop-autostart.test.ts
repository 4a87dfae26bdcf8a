import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperatorApi, SettingsView } from '../../main/common/operator-api';
import {
  HIDDEN_ARG,
  desktopExecArg,
  followAutostartSetting,
  setAutostart,
  startedHidden,
} from '../../main/desktop/autostart';
import type { LoginItemApp } from '../../main/desktop/autostart';

const dir = mkdtempSync(join(tmpdir(), 'desktop-autostart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

class FakeApp implements LoginItemApp {
  calls: Parameters<LoginItemApp['setLoginItemSettings']>[0][] = [];
  openedAtLogin = false;
  setLoginItemSettings(s: Parameters<LoginItemApp['setLoginItemSettings']>[0]): void {
    this.calls.push(s);
  }
  getLoginItemSettings() {
    return { openAtLogin: false, wasOpenedAtLogin: this.openedAtLogin };
  }
}

describe('start at login', () => {
  it('Windows: a login item starting the program hidden; macOS: openAsHidden', () => {
    const app = new FakeApp();
    const o = { exec: 'C:\\Program Files\\UKey\\UKey.exe', autostartDir: dir, name: 'UKey' };
    setAutostart(app, true, { ...o, platform: 'win32' });
    setAutostart(app, false, { ...o, platform: 'win32' });
    setAutostart(app, true, { ...o, platform: 'darwin' });
    assert.deepEqual(app.calls, [
      { openAtLogin: true, path: o.exec, args: [HIDDEN_ARG] },
      { openAtLogin: false, path: o.exec, args: [HIDDEN_ARG] },
      { openAtLogin: true, openAsHidden: true },
    ]);
  });

  it('Linux: writes and removes the XDG autostart entry, never calling the login-item API', () => {
    const app = new FakeApp();
    const auto = join(dir, 'config', 'autostart');
    const o = {
      platform: 'linux' as const,
      exec: '/opt/UKey Agent/ukey-agent',
      autostartDir: auto,
      name: 'UKey 签章助手',
    };
    setAutostart(app, true, o);
    const file = join(auto, 'ukey-agent.desktop');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\[Desktop Entry\]\nType=Application\n/);
    assert.match(text, /\nName=UKey 签章助手\n/);
    assert.match(text, /\nExec="\/opt\/UKey Agent\/ukey-agent" --hidden\n/);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    setAutostart(app, false, o);
    assert.equal(existsSync(file), false);
    setAutostart(app, false, o); // already off: fine
    assert.deepEqual(app.calls, []);
  });

  it('quotes Exec arguments per the desktop entry spec', () => {
    assert.equal(desktopExecArg('/usr/bin/ukey-agent'), '/usr/bin/ukey-agent');
    assert.equal(desktopExecArg('/a b/$x"`\\'), '"/a b/\\$x\\"\\`\\\\"');
  });

  it('a login start stays in the tray', () => {
    const app = new FakeApp();
    assert.equal(startedHidden(['electron', '.', HIDDEN_ARG], app, 'linux'), true);
    assert.equal(startedHidden(['electron', '.'], app, 'win32'), false);
    app.openedAtLogin = true;
    assert.equal(startedHidden(['electron', '.'], app, 'darwin'), true);
    assert.equal(startedHidden(['electron', '.'], app, 'win32'), false);
  });

  it('settings.set autoStart drives the login item, after the store accepted it', async () => {
    let stored: SettingsView = {
      jsapiPort: 18788,
      approvalTimeoutMs: 60_000,
      platformUrl: null,
      auditSealIntervalMs: 60_000,
      rateLimitPerMinute: 1200,
      relayMaxKiBps: 0,
      autoStart: false,
    };
    const base = {
      'settings.set': async (r: { key: string; value: unknown }) => {
        if (r.key === 'autoStart' && typeof r.value !== 'boolean') throw new Error('refused');
        stored = { ...stored, [r.key]: r.value };
        return stored;
      },
      'settings.get': async () => stored,
    } as unknown as OperatorApi;
    const applied: boolean[] = [];
    const api = followAutostartSetting(base, (on) => applied.push(on));
    await api['settings.set']({ key: 'autoStart', value: true });
    await api['settings.set']({ key: 'rateLimitPerMinute', value: 10 });
    await assert.rejects(api['settings.set']({ key: 'autoStart', value: 'yes' as never }));
    await api['settings.set']({ key: 'autoStart', value: false });
    assert.deepEqual(applied, [true, false]);
    assert.equal(api['settings.get'], base['settings.get']);
  });
});
