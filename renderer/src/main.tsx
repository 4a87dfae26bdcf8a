/** The operator UI's entry: picks the transport, then renders the app. */
import { createRoot } from 'react-dom/client';
import { createUiClient } from './api/client';
import { ClientProvider } from './api/context';
import { AppShell } from './AppShell';
import { I18nProvider } from './i18n';

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <ClientProvider client={createUiClient()}>
      <I18nProvider>
        <AppShell />
      </I18nProvider>
    </ClientProvider>,
  );
