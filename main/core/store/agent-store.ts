// The agent's state in one SQLite file, <data-dir>/agent.db, and the repositories over it.
import { join } from 'node:path';
import { AuditLog } from '../audit/audit-log';
import { AppStore } from './apps';
import { ApprovalStore } from './approvals';
import { ensurePrivateDir, openDatabase } from './database';
import type { Database, OpenDatabaseOptions } from './database';
import type { KeyProtector } from './key-protector';
import { PolicyStore } from './policies';
import { SecretStore } from './secret-store';
import { AGENT_SETTINGS, SettingsStore } from './settings';
import type { AgentSettings } from './settings';

export const AGENT_DB_FILE = 'agent.db';

export interface AgentStore {
  readonly file: string;
  readonly db: Database;
  readonly apps: AppStore;
  readonly policies: PolicyStore;
  readonly approvals: ApprovalStore;
  readonly settings: SettingsStore<AgentSettings>;
  readonly audit: AuditLog;
  /** The secret store, unlocked by `protector` (created under it on first use). */
  openSecrets(protector: KeyProtector): Promise<SecretStore>;
  close(): void;
}

export function openAgentStore(dataDir: string, opts: OpenDatabaseOptions = {}): AgentStore {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, AGENT_DB_FILE);
  const db = openDatabase(file, opts);
  return {
    file,
    db,
    apps: new AppStore(db),
    policies: new PolicyStore(db),
    approvals: new ApprovalStore(db),
    settings: new SettingsStore(db, AGENT_SETTINGS),
    audit: new AuditLog(db),
    openSecrets: (protector) => SecretStore.open(db, protector),
    close: () => {
      if (db.open) db.close();
    },
  };
}
