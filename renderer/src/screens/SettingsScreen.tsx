/**
 * Settings the agent keeps in its store (one audited change at a time), the UI language, and the
 * key-vendor profiles it knows (read-only: the agent exposes them through the key list).
 */
import {
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
import type { SettingKey, SettingsView, UKeyView } from '../../../main/common/operator-api';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/States';
import { useI18n } from '../i18n';
import type { Lang } from '../i18n';
import { useSubmit } from '../util/submit';

export function SettingsScreen(): JSX.Element {
  const { t, lang, setLang } = useI18n();
  const call = useCall();
  const { message } = App.useApp();
  const settings = useLoad(() => call('settings.get', {}), [call]);
  const keys = useLoad(() => call('keys.list', {}), [call]);
  const saving = useSubmit();

  const save = async <K extends SettingKey>(key: K, value: SettingsView[K]): Promise<void> => {
    await saving.attempt(async () => {
      await call('settings.set', { key, value });
      message.success(t('settings.saved'));
    });
    settings.reload();
  };

  const vendors = new Map<string, { name: string; keys: UKeyView[] }>();
  for (const k of keys.data ?? []) {
    const v = vendors.get(k.vendor.id) ?? { name: k.vendor.name, keys: [] };
    v.keys.push(k);
    vendors.set(k.vendor.id, v);
  }

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
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.platformUrl')}>
              <TextSetting
                testId="set-platformUrl"
                value={settings.data.platformUrl ?? ''}
                onSave={(v) => save('platformUrl', v.trim() ? v.trim() : null)}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t('settings.rateLimit')}>
              <NumberSetting
                testId="set-rateLimit"
                value={settings.data.rateLimitPerMinute}
                min={1}
                max={100000}
                unit={t('settings.perMinute')}
                onSave={(v) => save('rateLimitPerMinute', v)}
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
      <Card size="small" title={t('settings.vendors')}>
        <Typography.Paragraph type="secondary">{t('settings.vendorsHint')}</Typography.Paragraph>
        <ErrorAlert error={keys.error} onRetry={keys.reload} />
        <DataTable
          testId="vendors-table"
          rowKey="id"
          loading={keys.loading}
          empty={t('settings.noVendors')}
          rows={[...vendors.entries()].map(([id, v]) => ({ id, ...v }))}
          columns={[
            {
              title: t('settings.vendorId'),
              dataIndex: 'id',
              render: (v: string) => <Typography.Text code>{v}</Typography.Text>,
            },
            { title: t('settings.vendorName'), dataIndex: 'name' },
            {
              title: t('settings.vendorKeys'),
              key: 'k',
              render: (_, v: { keys: UKeyView[] }) => (
                <Space wrap>
                  {v.keys.map((k) => (
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
