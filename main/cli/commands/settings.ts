import { Command } from 'commander';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import { AGENT_SETTINGS } from '../../core/store/settings';
import type { AgentSettings } from '../../core/store/settings';
import { action, globalOptions } from '../command';
import { emit } from '../io';
import type { GlobalOptions } from '../io';
import { withStore } from './apps';

/** A value as typed on a command line: JSON when it parses (1024, true, null), else the text. */
function valueOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const lines = (s: AgentSettings): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}\t${JSON.stringify(v)}`)
    .join('\n');

/**
 * The agent's stored settings for headless operators (the desktop and console show the same in
 * Settings). Changes are checked per key and audited like the UI's; `relayMaxKiBps` applies to a
 * running agent within a second, the others as documented (some at the next start).
 */
export function settingsCommand(): Command {
  const settings = new Command('settings').description(
    "the agent's stored settings: " + Object.keys(AGENT_SETTINGS).join(', '),
  );

  globalOptions(settings.command('list').description('every setting and its value')).action(
    action<GlobalOptions>(async (o) => {
      const all = await withStore(o, async (s) => s.settings.all());
      emit(o, all, lines);
    }),
  );

  globalOptions(
    settings
      .command('set')
      .description('store a setting (VALUE as JSON when it parses: 1024, true, null)')
      .argument('<key>', 'the setting')
      .argument('<value>', 'its new value'),
  ).action(
    action<GlobalOptions>(async (o, cmd) => {
      const key = String(cmd.args[0]);
      const value = valueOf(String(cmd.args[1]));
      const all = await withStore(o, (s) =>
        auditedOperatorAction(s.audit, { interface: 'settings.set', raw: { key, value } }, () => {
          s.settings.setUnknown(key, value);
          return s.settings.all();
        }),
      );
      emit(o, all, (a) => `${key} = ${JSON.stringify(a[key as keyof AgentSettings])}`);
    }),
  );

  globalOptions(
    settings.command('reset').description('back to the default').argument('<key>', 'the setting'),
  ).action(
    action<GlobalOptions>(async (o, cmd) => {
      const key = String(cmd.args[0]);
      const all = await withStore(o, (s) =>
        auditedOperatorAction(s.audit, { interface: 'settings.reset', raw: { key } }, () => {
          s.settings.reset(key as keyof AgentSettings);
          return s.settings.all();
        }),
      );
      emit(o, all, (a) => `${key} = ${JSON.stringify(a[key as keyof AgentSettings])} (default)`);
    }),
  );

  return settings;
}
