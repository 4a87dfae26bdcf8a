import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { AGENT_SETTINGS } from '../../main/core/store/settings';

const root = mkdtempSync(join(tmpdir(), 'store-settings-'));
let store: AgentStore;
before(() => {
  store = openAgentStore(root);
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const badParamNaming = (field: string) => (e: unknown) =>
  e instanceof AgentError && e.code === '1001' && e.message.includes(field);

describe('SettingsStore', () => {
  it('answers defaults until set, then the stored value; reset restores the default', () => {
    assert.equal(store.settings.get('jsapiPort'), 18788);
    assert.equal(store.settings.get('platformUrl'), null);
    store.settings.set('jsapiPort', 19000);
    store.settings.set('platformUrl', 'https://platform.example/api');
    store.settings.set('autoStart', true);
    assert.equal(store.settings.get('jsapiPort'), 19000);
    assert.deepEqual(store.settings.all(), {
      ...Object.fromEntries(Object.entries(AGENT_SETTINGS).map(([k, s]) => [k, s.default])),
      jsapiPort: 19000,
      platformUrl: 'https://platform.example/api',
      autoStart: true,
    });
    store.settings.reset('jsapiPort');
    assert.equal(store.settings.get('jsapiPort'), 18788);
  });

  it('refuses unknown keys and mistyped values, naming the setting', () => {
    assert.throws(
      () => store.settings.setUnknown('jsapiPort', '18788'),
      badParamNaming('jsapiPort'),
    );
    assert.throws(() => store.settings.setUnknown('jsapiPort', 80), badParamNaming('jsapiPort'));
    assert.throws(
      () => store.settings.setUnknown('platformUrl', 'ftp://x'),
      badParamNaming('platformUrl'),
    );
    assert.throws(() => store.settings.setUnknown('autoStart', 1), badParamNaming('autoStart'));
    assert.throws(() => store.settings.setUnknown('nope', 1), badParamNaming('nope'));
    store.settings.setUnknown('approvalTimeoutMs', 30_000);
    assert.equal(store.settings.get('approvalTimeoutMs'), 30_000);
  });

  it('refuses a stored value that no longer passes its check', () => {
    store.db
      .prepare(
        "INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('rateLimitPerMinute', '\"lots\"', 0)",
      )
      .run();
    assert.throws(
      () => store.settings.get('rateLimitPerMinute'),
      badParamNaming('rateLimitPerMinute'),
    );
  });
});
