/**
 * Settings the agent keeps in its store (one audited change at a time), the UI language, and what
 * the agent loaded at start, read-only: the platform it reaches (URL, app id, certificate) and its
 * PKCS#11 modules and vendor profiles.
 */
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Input,
  InputNumber,
  Segmented,
  Space,
  Switch,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { useCall, useLoad } from '../api/context';
import type {
  Pkcs11ModuleView,
  PlatformView,
  SettingKey,
  SettingsView,
  UKeyView,
  VendorProfileView,
} from '../../../main/common/operator-api';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/States';
import { useI18n } from '../i18n';
import type { Lang } from '../i18n';
import { dateTime } from '../util/format';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

export function SettingsScreen(): JSX.Element {
  const { t, lang, setLang } = useI18n();
  const call = useCall();
  const { message } = App.useApp();
  const settings = useLoad(() => call('settings.get', {}), [call]);
  const keys = useLoad(() => call('keys.list', {}), [call]);
  const modules = useLoad(() => call('settings.modules', {}), [call]);
  const platform = useLoad(() => call('settings.platform', {}), [call]);
  const saving = useSubmit();

  const save = async <K extends SettingKey>(key: K, value: SettingsView[K]): Promise<void> => {
    await saving.attempt(async () => {
      await call('settings.set', { key, value });
      message.success(t('settings.saved'));
    });
    settings.reload();
  };

  /** The keys plugged in now, by the profile they run with. */
  const keysOf = new Map<string, UKeyView[]>();
  for (const k of keys.data ?? []) keysOf.set(k.vendor.id, [...(keysOf.get(k.vendor.id) ?? []), k]);

  return (
    <Space
      direction="vertical"
      style={{ width: '100%' }}
      size="large"
      data-testid="settings-screen"
    >
      <Card size="small" title={t('settings.language')}>
        <Segmented<Lang>
          data-testid="settings-lang"
          value={lang}
          onChange={setLang}
          options={[
            { value: 'zh-CN', label: '简体中文' },
            { value: 'en-US', label: 'English' },
          ]}
        />
      </Card>
      <Card size="small" title={t('settings.agent')}>
        <ErrorAlert
          error={settings.error ?? saving.error}
          onRetry={settings.reload}
          testId="settings-error"
        />
        {settings.loading && !settings.data ? (
          <Loading />
        ) : settings.data ? (
          <Descriptions
            column={1}
            bordered
            size="small"
            labelStyle={{ width: 260 }}
            data-testid="settings-table"
          >
            <Descriptions.Item label={t('settings.jsapiPort')}>
              <NumberSetting
                testId="set-jsapiPort"
                value={settings.data.jsapiPort}
                min={1}
                max={65535}
                onSave={(v) => save('jsapiPort', v)}
                hint={t('settings.restartHint')}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.approvalTimeout')}>
              <NumberSetting
                testId="set-approvalTimeout"
                value={Math.round(settings.data.approvalTimeoutMs / 1000)}
                min={5}
                max={3600}
                unit={t('settings.seconds')}
                onSave={(v) => save('approvalTimeoutMs', v * 1000)}
                hint={t('settings.restartHint')}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.platformUrl')}>
              <TextSetting
                testId="set-platformUrl"
                value={settings.data.platformUrl ?? ''}
                onSave={(v) => save('platformUrl', v.trim() ? v.trim() : null)}
              />
              <Typography.Text type="secondary" data-testid="set-platformUrl-hint">
                {t('settings.platformUrlHint')}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.rateLimit')}>
              <NumberSetting
                testId="set-rateLimit"
                value={settings.data.rateLimitPerMinute}
                min={1}
                max={60000}
                unit={t('settings.perMinute')}
                onSave={(v) => save('rateLimitPerMinute', v)}
                hint={t('settings.restartHint')}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.auditSeal')}>
              <NumberSetting
                testId="set-auditSeal"
                value={Math.round(settings.data.auditSealIntervalMs / 60000)}
                min={1}
                max={1440}
                unit={t('settings.minutes')}
                onSave={(v) => save('auditSealIntervalMs', v * 60000)}
                hint={t('settings.restartHint')}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.relayMax')}>
              <NumberSetting
                testId="set-relayMax"
                value={settings.data.relayMaxKiBps}
                min={0}
                max={4_194_304}
                unit="KiB/s"
                onSave={(v) => save('relayMaxKiBps', v)}
                hint={t('settings.relayMaxHint')}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.autoStart')}>
              <Switch
                data-testid="set-autoStart"
                checked={settings.data.autoStart}
                onChange={(v) => void save('autoStart', v)}
              />
            </Descriptions.Item>
          </Descriptions>
        ) : null}
      </Card>
      <PlatformCard platform={platform.data} error={platform.error} onRetry={platform.reload} />
      <Card size="small" title={t('settings.vendors')}>
        <Typography.Paragraph type="secondary">{t('settings.vendorsHint')}</Typography.Paragraph>
        <ErrorAlert error={modules.error ?? keys.error} onRetry={modules.reload} />
        <Typography.Paragraph>
          {t('settings.profileDir')}:{' '}
          <Typography.Text code copyable={!!modules.data?.profileDir} data-testid="profile-dir">
            {modules.data ? (modules.data.profileDir ?? t('settings.profileDirNone')) : '…'}
          </Typography.Text>
        </Typography.Paragraph>
        <Typography.Title level={5}>{t('settings.modules')}</Typography.Title>
        <DataTable<Pkcs11ModuleView>
          testId="modules-table"
          rowKey="path"
          loading={modules.loading}
          empty={t('settings.noModules')}
          rows={modules.data?.modules}
          onRow={(m) =>
            rowTid('module-row', { profile: m.profileId, loaded: m.loaded ? 'yes' : 'no' })
          }
          columns={[
            {
              title: t('settings.modulePath'),
              dataIndex: 'path',
              render: (v: string) => <Typography.Text code>{v}</Typography.Text>,
            },
            {
              title: t('settings.vendorId'),
              dataIndex: 'profileId',
              width: 120,
            },
            {
              title: t('settings.manufacturer'),
              dataIndex: 'manufacturer',
              render: (v?: string) => v ?? '—',
            },
            {
              title: t('settings.moduleState'),
              key: 's',
              render: (_, m) =>
                m.loaded ? (
                  <Tag color="green">{t('settings.moduleLoaded')}</Tag>
                ) : (
                  <Space direction="vertical" size={0}>
                    <Tag color="orange">{t('settings.moduleFailed')}</Tag>
                    {m.error && <Typography.Text type="secondary">{m.error}</Typography.Text>}
                  </Space>
                ),
            },
          ]}
        />
        <Typography.Title level={5}>{t('settings.profiles')}</Typography.Title>
        <DataTable<VendorProfileView>
          testId="vendors-table"
          rowKey="id"
          loading={modules.loading}
          empty={t('settings.noVendors')}
          rows={modules.data?.profiles}
          onRow={(p) => rowTid('profile-row', { id: p.id, source: p.source })}
          columns={[
            {
              title: t('settings.vendorId'),
              dataIndex: 'id',
              render: (v: string, p) => (
                <Space size={4} wrap>
                  <Typography.Text code>{v}</Typography.Text>
                  {p.development && <Tag color="red">{t('settings.devProfile')}</Tag>}
                </Space>
              ),
            },
            { title: t('settings.vendorName'), dataIndex: 'name' },
            {
              title: t('settings.source'),
              dataIndex: 'source',
              render: (v: VendorProfileView['source']) =>
                v === 'builtin' ? (
                  <Tag>{t('settings.sourceBuiltin')}</Tag>
                ) : (
                  <Tag color="blue">{t('settings.sourceOperator')}</Tag>
                ),
            },
            {
              title: t('settings.library'),
              dataIndex: 'library',
              render: (v?: string) =>
                v ? (
                  <Typography.Text code>{v}</Typography.Text>
                ) : (
                  <Typography.Text type="secondary">{t('settings.libraryMissing')}</Typography.Text>
                ),
            },
            {
              title: t('settings.usb'),
              key: 'usb',
              render: (_, p) =>
                p.usb.length === 0
                  ? '—'
                  : p.usb
                      .map((u) =>
                        [hex4(u.vendorId), u.productId !== undefined ? hex4(u.productId) : '*']
                          .join(':')
                          .concat(u.model ? ` ${u.model}` : ''),
                      )
                      .join(', '),
            },
            {
              title: t('settings.vendorKeys'),
              key: 'k',
              render: (_, p) => (
                <Space wrap>
                  {(keysOf.get(p.id) ?? []).map((k) => (
                    <Tag key={k.ukeyId} color={k.development ? 'red' : 'blue'}>
                      {k.label} · {k.manufacturer} {k.model}
                    </Tag>
                  ))}
                </Space>
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}

function NumberSetting(props: {
  testId: string;
  value: number;
  min: number;
  max: number;
  unit?: string;
  hint?: ReactNode;
  onSave(v: number): Promise<void>;
}): JSX.Element {
  const { t } = useI18n();
  const [v, setV] = useState<number | null>(props.value);
  const changed = v !== null && v !== props.value;
  return (
    <Space>
      <InputNumber
        data-testid={props.testId}
        min={props.min}
        max={props.max}
        value={v}
        onChange={setV}
      />
      {props.unit}
      <Button
        size="small"
        disabled={!changed}
        data-testid={`${props.testId}-save`}
        onClick={() => v !== null && void props.onSave(v)}
      >
        {t('common.save')}
      </Button>
      {props.hint && <Typography.Text type="secondary">{props.hint}</Typography.Text>}
    </Space>
  );
}

function TextSetting(props: {
  testId: string;
  value: string;
  onSave(v: string): Promise<void>;
}): JSX.Element {
  const { t } = useI18n();
  const [v, setV] = useState(props.value);
  return (
    <Space.Compact style={{ width: 480 }}>
      <Input
        data-testid={props.testId}
        value={v}
        onChange={(e) => setV(e.target.value)}
        placeholder="https://"
      />
      <Button
        data-testid={`${props.testId}-save`}
        disabled={v === props.value}
        onClick={() => void props.onSave(v)}
      >
        {t('common.save')}
      </Button>
    </Space.Compact>
  );
}

/** The platform this agent reaches, as loaded at start (read-only). */
function PlatformCard(props: {
  platform: PlatformView | undefined;
  error: unknown;
  onRetry(): void;
}): JSX.Element {
  const { t } = useI18n();
  const p = props.platform;
  const cert = p?.certificate;
  return (
    <Card size="small" title={t('settings.platform')}>
      <ErrorAlert error={props.error} onRetry={props.onRetry} />
      {!p ? (
        props.error ? null : (
          <Loading />
        )
      ) : (
        <Space direction="vertical" style={{ width: '100%' }}>
          {!p.connected && p.reason && <Alert type="warning" showIcon message={p.reason} />}
          <Descriptions
            column={1}
            bordered
            size="small"
            labelStyle={{ width: 260 }}
            data-testid="platform-info"
          >
            <Descriptions.Item label={t('settings.moduleState')}>
              <span data-testid="platform-state" data-state={p.connected ? 'connected' : 'missing'}>
                {p.connected ? (
                  <Tag color="green">{t('settings.platformConnected')}</Tag>
                ) : (
                  <Tag color="orange">{t('settings.platformNotConnected')}</Tag>
                )}
              </span>
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.platformUrl')}>
              <Typography.Text code data-testid="platform-url">
                {p.url ?? '—'}
              </Typography.Text>
            </Descriptions.Item>
            {p.appId && (
              <Descriptions.Item label={t('settings.platformAppId')}>
                <Typography.Text code>{p.appId}</Typography.Text>
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t('settings.platformCert')}>
              {cert ? (
                <Space direction="vertical" size={0} data-testid="platform-cert">
                  <span>
                    {t('settings.certSubject')}:{' '}
                    <span data-testid="platform-cert-subject">{cert.subject}</span>
                  </span>
                  <span>
                    {t('settings.certIssuer')}: {cert.issuer}
                  </span>
                  <span data-testid="platform-cert-validity" data-not-after={cert.notAfter}>
                    {t('settings.certValidity')}: {dateTime(cert.notBefore)} —{' '}
                    {dateTime(cert.notAfter)}{' '}
                    {cert.notAfter < Date.now() && (
                      <Tag color="red">{t('settings.certExpired')}</Tag>
                    )}
                  </span>
                </Space>
              ) : (
                <Typography.Text type="secondary">{t('settings.platformCertNone')}</Typography.Text>
              )}
            </Descriptions.Item>
          </Descriptions>
        </Space>
      )}
    </Card>
  );
}
