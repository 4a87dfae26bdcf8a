/**
 * The frame: antd locale for the chosen language, left navigation, a header with the connection
 * and agent status and the language switch, and the screen. Global dialogs (approval, PIN) live
 * here so they appear whatever screen is open.
 */
import {
  App as AntApp,
  Badge,
  Result,
  ConfigProvider,
  Layout,
  Menu,
  Segmented,
  Space,
  Tag,
  Typography,
} from 'antd';
import enUSLocale from 'antd/locale/en_US';
import zhCNLocale from 'antd/locale/zh_CN';
import { useEffect, useState } from 'react';
import { useConnection, useLoad, useCall } from './api/context';
import { ApprovalsProvider, useApprovals } from './components/Approvals';
import { PinPrompt } from './components/PinPrompt';
import { useI18n } from './i18n';
import type { Lang, MessageKey } from './i18n';
import { AppsScreen } from './screens/AppsScreen';
import { AuditScreen } from './screens/AuditScreen';
import { CloudScreen } from './screens/CloudScreen';
import { DocumentsScreen } from './screens/DocumentsScreen';
import { KeysScreen } from './screens/KeysScreen';
import { RelayScreen } from './screens/RelayScreen';
import { RequestsScreen } from './screens/RequestsScreen';
import { SealsScreen } from './screens/SealsScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { dialogRoute } from './util/route';
import type { DialogRoute } from './util/route';

export type ScreenId =
  'keys' | 'seals' | 'requests' | 'apps' | 'relay' | 'documents' | 'cloud' | 'audit' | 'settings';

const SCREENS: { id: ScreenId; label: MessageKey; render: () => JSX.Element }[] = [
  { id: 'keys', label: 'nav.keys', render: () => <KeysScreen /> },
  { id: 'seals', label: 'nav.seals', render: () => <SealsScreen /> },
  { id: 'requests', label: 'nav.requests', render: () => <RequestsScreen /> },
  { id: 'apps', label: 'nav.apps', render: () => <AppsScreen /> },
  { id: 'relay', label: 'nav.relay', render: () => <RelayScreen /> },
  { id: 'documents', label: 'nav.documents', render: () => <DocumentsScreen /> },
  { id: 'cloud', label: 'nav.cloud', render: () => <CloudScreen /> },
  { id: 'audit', label: 'nav.audit', render: () => <AuditScreen /> },
  { id: 'settings', label: 'nav.settings', render: () => <SettingsScreen /> },
];

const isScreen = (s: string): s is ScreenId => SCREENS.some((x) => x.id === s);

/** The screen follows the URL hash (#keys), so a reload stays put and tests can link to it. */
function useScreen(): [ScreenId, (s: ScreenId) => void] {
  const read = (): ScreenId => {
    const h = window.location.hash.slice(1);
    return isScreen(h) ? h : 'keys';
  };
  const [screen, setScreen] = useState<ScreenId>(read);
  useEffect(() => {
    const f = (): void => setScreen(read());
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return [
    screen,
    (s) => {
      window.location.hash = s;
      setScreen(s);
    },
  ];
}

export function AppShell(): JSX.Element {
  const { lang } = useI18n();
  // Read once: a dialog window stays on its one request.
  const [route] = useState(() => dialogRoute(window.location.hash));
  return (
    <ConfigProvider
      locale={lang === 'zh-CN' ? zhCNLocale : enUSLocale}
      theme={{ token: { colorPrimary: '#b7282e' } }}
    >
      <AntApp>
        {route ? (
          <DialogWindow route={route} />
        ) : (
          <ApprovalsProvider>
            <Frame />
            <PinPrompt />
          </ApprovalsProvider>
        )}
      </AntApp>
    </ConfigProvider>
  );
}

/**
 * The desktop's approval or PIN window: that one dialog, no navigation. The agent closes the
 * window once the request is settled; until then closing it declines (or cancels the PIN).
 */
function DialogWindow(props: { route: DialogRoute }): JSX.Element {
  const { t } = useI18n();
  const settled = (
    <div data-testid="dialog-settled">
      <Result status="info" title={t('dialog.settled')} subTitle={t('dialog.settledHint')} />
    </div>
  );
  return (
    <div data-testid={`dialog-window-${props.route.kind}`} style={{ minHeight: '100vh' }}>
      {props.route.kind === 'approval' ? (
        <ApprovalsProvider only={props.route.requestId}>
          <SettledWhenGone requestId={props.route.requestId}>{settled}</SettledWhenGone>
        </ApprovalsProvider>
      ) : (
        <PinPrompt only={props.route.requestId} idle={settled} />
      )}
    </div>
  );
}

/** Shown under the approval window's dialog once its request is no longer pending. */
function SettledWhenGone(props: { requestId: string; children: JSX.Element }): JSX.Element | null {
  const { pending, loaded } = useApprovals();
  return loaded && !pending.some((p) => p.requestId === props.requestId) ? props.children : null;
}

function Frame(): JSX.Element {
  const { t, lang, setLang } = useI18n();
  const [screen, setScreen] = useScreen();
  const { pending } = useApprovals();
  const current = SCREENS.find((s) => s.id === screen) ?? SCREENS[0]!;
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider width={200} theme="light" style={{ borderRight: '1px solid #f0f0f0' }}>
        <div
          style={{ padding: '16px 16px 8px', fontWeight: 600, fontSize: 16 }}
          data-testid="app-title"
        >
          {t('app.title')}
        </div>
        <Menu
          mode="inline"
          selectedKeys={[screen]}
          data-testid="nav"
          onClick={(e) => isScreen(e.key) && setScreen(e.key)}
          items={SCREENS.map((s) => ({
            key: s.id,
            label: (
              <span data-testid={`nav-${s.id}`}>
                {t(s.label)}
                {s.id === 'requests' && pending.length > 0 && (
                  <Badge
                    count={pending.length}
                    size="small"
                    style={{ marginLeft: 8 }}
                    data-testid="nav-pending-count"
                  />
                )}
              </span>
            ),
          }))}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: '#fff',
            padding: '0 24px',
            borderBottom: '1px solid #f0f0f0',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
          }}
        >
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="screen-title">
            {t(current.label)}
          </Typography.Title>
          <Space size="large">
            <AgentStatus />
            <Segmented<Lang>
              data-testid="lang-switch"
              value={lang}
              onChange={setLang}
              options={[
                { value: 'zh-CN', label: <span data-testid="lang-zh-CN">中文</span> },
                { value: 'en-US', label: <span data-testid="lang-en-US">English</span> },
              ]}
            />
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }} data-testid={`screen-${screen}`}>
          {current.render()}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

/** Connection (live events) and the agent's answer to a cheap call. */
function AgentStatus(): JSX.Element {
  const { t } = useI18n();
  const conn = useConnection();
  const call = useCall();
  const keys = useLoad(() => call('keys.list', {}), [call, conn]);
  const connColor = conn === 'open' ? 'green' : conn === 'connecting' ? 'gold' : 'red';
  const connText = t(
    conn === 'open'
      ? 'status.connected'
      : conn === 'connecting'
        ? 'status.connecting'
        : 'status.disconnected',
  );
  return (
    <Space>
      <Tag color={connColor} data-testid="conn-status" data-state={conn}>
        {connText}
      </Tag>
      <Tag
        color={keys.error ? 'red' : keys.data ? 'blue' : 'default'}
        data-testid="agent-status"
        data-state={keys.error ? 'error' : keys.data ? 'ok' : 'loading'}
      >
        {keys.error
          ? t('status.agentError')
          : keys.data
            ? t('status.agentOk', { n: keys.data.length })
            : t('common.loading')}
      </Tag>
    </Space>
  );
}
