/**
 * The operator UI's entry: picks the transport, then renders the app. In the browser console the
 * page first trades the link's one-time token for its session (api/session.ts); without one, or
 * when the agent later answers 401, it shows how to get a new link instead.
 */
import { createRoot } from 'react-dom/client';
import type { Root } from 'react-dom/client';
import { createUiClient, inElectron } from './api/client';
import type { UiClient } from './api/client';
import { ClientProvider } from './api/context';
import { forgetSession, startConsoleSession } from './api/session';
import type { SessionProblemKind } from './api/session';
import { SessionProblem } from './api/session-problem';
import { AppShell } from './AppShell';
import { I18nProvider } from './i18n';

function showApp(root: Root, client: UiClient): void {
  root.render(
    <ClientProvider client={client}>
      <I18nProvider>
        <AppShell />
      </I18nProvider>
    </ClientProvider>,
  );
}

function showProblem(root: Root, kind: SessionProblemKind): void {
  root.render(
    <I18nProvider>
      <SessionProblem kind={kind} />
    </I18nProvider>,
  );
}

async function boot(el: HTMLElement): Promise<void> {
  const root = createRoot(el);
  if (inElectron()) return showApp(root, createUiClient());
  const start = await startConsoleSession();
  if ('problem' in start) return showProblem(root, start.problem);
  showApp(
    root,
    createUiClient({
      sessionId: start.sessionId,
      onUnauthorized: () => {
        forgetSession();
        showProblem(root, 'expired');
      },
    }),
  );
}

const el = document.getElementById('root');
if (el) void boot(el);
