/**
 * File relay: large-file transfers to and from the platform, resumable. Progress, rate and ETA come
 * live from 'relay.progress'; job state changes from 'relay.state'. Files are given by dropping
 * them (the console stages them on the agent first) or by a local path on the agent's machine.
 */
import { App, Button, Card, Input, Progress, Space, Table, Tag, Typography, Upload } from 'antd';
import { useState } from 'react';
import { useCall, useClient, useEvent, useLoad } from '../api/context';
import type { RelayJobView, RelayProgressView } from '../../../main/common/operator-api';
import { ConfirmButton } from '../components/Confirm';
import { ErrorAlert } from '../components/ErrorAlert';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';
import { saveLink } from '../util/download';
import { bytes, duration, rate } from '../util/format';
import { rowTid } from '../util/tid';

const STATE_COLOR: Record<RelayJobView['state'], string> = {
  queued: 'default',
  running: 'blue',
  paused: 'gold',
  done: 'green',
  failed: 'red',
  canceled: 'default',
};

export function RelayScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const client = useClient();
  const { message } = App.useApp();
  const jobs = useLoad(() => call('relay.list', {}), [call]);
  const [live, setLive] = useState<Record<number, RelayJobView>>({});
  const [progress, setProgress] = useState<Record<number, RelayProgressView>>({});
  const [staging, setStaging] = useState<{ name: string; sent: number; total: number } | null>(
    null,
  );
  const [localPath, setLocalPath] = useState('');
  const [fileId, setFileId] = useState('');
  const [savePath, setSavePath] = useState('');
  const [error, setError] = useState<unknown>();

  useEvent('relay.progress', (p) => setProgress((m) => ({ ...m, [p.jobId]: p })));
  useEvent('relay.state', (j) => {
    setLive((m) => ({ ...m, [j.id]: j }));
    if (!(jobs.data ?? []).some((x) => x.id === j.id)) jobs.reload();
  });

  const rows = (jobs.data ?? []).map((j) => {
    const l = live[j.id];
    return l && l.updatedAt >= j.updatedAt ? l : j;
  });
  rows.sort((a, b) => b.id - a.id);

  const act = async (fn: () => Promise<RelayJobView>): Promise<void> => {
    setError(undefined);
    try {
      const j = await fn();
      setLive((m) => ({ ...m, [j.id]: j }));
      jobs.reload();
    } catch (e) {
      setError(e);
    }
  };

  // Fetched with the session's Authorization header, then saved from the page: a plain link
  // could only authenticate with a cookie, and the console has none.
  const saveDownload = async (jobId: number): Promise<void> => {
    if (!client.download) return;
    setError(undefined);
    try {
      saveLink((await client.download(jobId)).url);
    } catch (e) {
      setError(e);
    }
  };

  const uploadFile = async (file: File): Promise<void> => {
    // Electron: the file is read in place, nothing is copied.
    const path = client.pathOf?.(file);
    if (path) {
      await act(() => call('relay.upload', { localPath: path }));
      message.success(t('relay.uploadStarted', { name: file.name }));
      return;
    }
    if (!client.stage) {
      setError(Object.assign(new Error(t('relay.noStaging')), { code: '1001' }));
      return;
    }
    setError(undefined);
    setStaging({ name: file.name, sent: 0, total: file.size });
    try {
      const staged = await client.stage(file, (sent, total) =>
        setStaging({ name: file.name, sent, total }),
      );
      await act(() => call('relay.upload', { stagedId: staged.stagedId }));
      message.success(t('relay.uploadStarted', { name: file.name }));
    } catch (e) {
      setError(e);
    } finally {
      setStaging(null);
    }
  };

  return (
    <div data-testid="relay-screen">
      <Space align="start" style={{ width: '100%', marginBottom: 16 }} wrap>
        <Card size="small" title={t('relay.upload')} style={{ width: 460 }}>
          <div data-testid="relay-dropzone">
            <Upload.Dragger
              multiple={false}
              showUploadList={false}
              customRequest={({ file }) => {
                if (file instanceof File) void uploadFile(file);
              }}
            >
              <p style={{ margin: 8 }}>{t('relay.drop')}</p>
            </Upload.Dragger>
          </div>
          {staging && (
            <div data-testid="relay-staging">
              <Typography.Text type="secondary">
                {t('relay.staging', { name: staging.name })}
              </Typography.Text>
              <Progress
                percent={staging.total ? Math.floor((staging.sent / staging.total) * 100) : 0}
                size="small"
              />
            </div>
          )}
          <Space.Compact style={{ width: '100%', marginTop: 12 }}>
            <Input
              data-testid="relay-upload-path"
              placeholder={t('relay.localPath')}
              value={localPath}
              onChange={(e) => setLocalPath(e.target.value)}
            />
            <Button
              data-testid="relay-upload-path-go"
              disabled={!localPath.trim()}
              onClick={() => void act(() => call('relay.upload', { localPath: localPath.trim() }))}
            >
              {t('relay.uploadGo')}
            </Button>
          </Space.Compact>
        </Card>
        <Card size="small" title={t('relay.download')} style={{ width: 460 }}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Input
              data-testid="relay-download-id"
              placeholder={t('relay.fileId')}
              value={fileId}
              onChange={(e) => setFileId(e.target.value)}
            />
            <Input
              data-testid="relay-download-path"
              placeholder={t('relay.savePath')}
              value={savePath}
              onChange={(e) => setSavePath(e.target.value)}
            />
            <Button
              type="primary"
              data-testid="relay-download-go"
              disabled={!fileId.trim()}
              onClick={() =>
                void act(() =>
                  call('relay.download', {
                    fileId: fileId.trim(),
                    ...(savePath.trim() ? { localPath: savePath.trim() } : {}),
                  }),
                )
              }
            >
              {t('relay.downloadGo')}
            </Button>
          </Space>
        </Card>
      </Space>
      <ErrorAlert error={jobs.error ?? error} onRetry={jobs.reload} testId="relay-error" />
      <Table<RelayJobView>
        data-testid="relay-table"
        size="small"
        rowKey="id"
        loading={jobs.loading && !jobs.data}
        dataSource={rows}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        locale={{ emptyText: t('relay.none') }}
        onRow={(j) => rowTid('relay-row', { job: j.id, kind: j.kind, state: j.state })}
        columns={[
          { title: '#', dataIndex: 'id', width: 50 },
          {
            title: t('relay.kind'),
            dataIndex: 'kind',
            width: 90,
            render: (k: string) => t(k === 'upload' ? 'relay.kind.upload' : 'relay.kind.download'),
          },
          {
            title: t('relay.file'),
            key: 'f',
            ellipsis: true,
            render: (_, j) => (
              <Space direction="vertical" size={0}>
                <span>{j.filename ?? j.localPath}</span>
                {j.fileId && (
                  <Typography.Text
                    type="secondary"
                    copyable={{ text: j.fileId }}
                    data-testid="relay-file-id"
                  >
                    {j.fileId}
                  </Typography.Text>
                )}
              </Space>
            ),
          },
          {
            title: t('seals.state'),
            dataIndex: 'state',
            width: 90,
            render: (s: RelayJobView['state']) => (
              <Tag color={STATE_COLOR[s]} data-testid="relay-state">
                {t(`relay.state.${s}` as MessageKey)}
              </Tag>
            ),
          },
          {
            title: t('relay.progress'),
            key: 'p',
            width: 300,
            render: (_, j) => <JobProgress job={j} p={progress[j.id]} />,
          },
          {
            title: t('common.actions'),
            key: 'a',
            width: 230,
            render: (_, j) => (
              <Space size="small">
                {j.state === 'running' || j.state === 'queued' ? (
                  <Button
                    size="small"
                    data-testid="relay-pause"
                    onClick={() => void act(() => call('relay.pause', { jobId: j.id }))}
                  >
                    {t('relay.pause')}
                  </Button>
                ) : null}
                {j.state === 'paused' || j.state === 'failed' ? (
                  <Button
                    size="small"
                    data-testid="relay-resume"
                    onClick={() => void act(() => call('relay.resume', { jobId: j.id }))}
                  >
                    {t('relay.resume')}
                  </Button>
                ) : null}
                {j.state !== 'done' && j.state !== 'canceled' && (
                  <ConfirmButton
                    testId="relay-cancel"
                    danger
                    title={t('relay.cancelTitle', { id: j.id })}
                    content={t('relay.cancelConfirm')}
                    onConfirm={() => act(() => call('relay.cancel', { jobId: j.id }))}
                  >
                    {t('common.cancel')}
                  </ConfirmButton>
                )}
                {j.kind === 'download' && j.state === 'done' && client.download && (
                  <Button
                    size="small"
                    data-testid="relay-save"
                    onClick={() => void saveDownload(j.id)}
                  >
                    {t('relay.save')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
    </div>
  );
}

function JobProgress(props: { job: RelayJobView; p: RelayProgressView | undefined }): JSX.Element {
  const j = props.job;
  const p = props.p;
  const done = p && p.jobId === j.id && p.bytes >= j.offset ? p.bytes : j.offset;
  const total = p?.total ?? j.size;
  const pct = j.state === 'done' ? 100 : total ? Math.min(99, Math.floor((done / total) * 100)) : 0;
  const status =
    j.state === 'failed'
      ? 'exception'
      : j.state === 'done'
        ? 'success'
        : j.state === 'running'
          ? 'active'
          : 'normal';
  return (
    <div data-testid="relay-progress" data-bytes={done} data-total={total ?? ''}>
      <Progress percent={pct} size="small" status={status} />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {bytes(done)} / {bytes(total)}
        {p && j.state === 'running' ? ` · ${rate(p.rate)} · ETA ${duration(p.etaMs)}` : ''}
        {j.error ? ` · ${j.error}` : ''}
      </Typography.Text>
    </div>
  );
}
