/**
 * Keys & certificates: the plugged keys (live), their PIN state, certificates and key pairs, and
 * the operator functions (generate, CSR, import, export, delete, change/unblock PIN). PINs are
 * never typed here: the agent asks them through its PIN prompt.
 */
import {
  App,
  Alert,
  AutoComplete,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Tag,
  Tooltip,
  Typography,
  Upload,
} from 'antd';
import { useState } from 'react';
import { useCall, useEvent, useLoad } from '../api/context';
import type {
  CertificateView,
  KeyGenAlgorithmName,
  KeyPairView,
  UKeyView,
} from '../../../main/common/operator-api';
import { ConfirmButton } from '../components/Confirm';
import { DataTable } from '../components/DataTable';
import { ErrorAlert } from '../components/ErrorAlert';
import { FormDialog } from '../components/FormDialog';
import { EmptyState, Loading } from '../components/States';
import { useT } from '../i18n';
import type { Translate } from '../i18n';
import { saveText } from '../util/download';
import { DAY_MS, dateTime, fingerprint, pem } from '../util/format';
import { useSubmit } from '../util/submit';
import { rowTid } from '../util/tid';

export function KeysScreen(): JSX.Element {
  const t = useT();
  const call = useCall();
  const keys = useLoad(() => call('keys.list', {}), [call]);
  useEvent('key.inserted', keys.reload);
  useEvent('key.removed', keys.reload);
  // A PIN typed anywhere (prompt or approval) may change a key's PIN state: show it.
  useEvent('pin.resolved', keys.reload);
  useEvent('approval.resolved', keys.reload);
  return (
    <div data-testid="keys-screen">
      <Space style={{ marginBottom: 12 }}>
        <Button data-testid="keys-refresh" onClick={keys.reload}>
          {t('common.refresh')}
        </Button>
        <Typography.Text type="secondary">{t('keys.liveHint')}</Typography.Text>
      </Space>
      <ErrorAlert error={keys.error} onRetry={keys.reload} />
      {keys.loading && !keys.data ? (
        <Loading />
      ) : keys.data && keys.data.length === 0 ? (
        <EmptyState text="keys.none" testId="keys-empty" />
      ) : (
        <Space direction="vertical" style={{ width: '100%' }} size="large">
          {(keys.data ?? []).map((k) => (
            <KeyCard key={k.ukeyId} ukey={k} onChanged={keys.reload} />
          ))}
        </Space>
      )}
    </div>
  );
}

function PinState(props: { pin: UKeyView['pin'] }): JSX.Element {
  const t = useT();
  const p = props.pin;
  if (p.locked)
    return (
      <Tag color="red" data-testid="pin-state" data-state="locked">
        {t('keys.pin.locked')}
      </Tag>
    );
  if (!p.initialized)
    return (
      <Tag color="orange" data-testid="pin-state" data-state="uninitialized">
        {t('keys.pin.uninitialized')}
      </Tag>
    );
  if (p.finalTry)
    return (
      <Tag color="red" data-testid="pin-state" data-state="final">
        {t('keys.pin.finalTry')}
      </Tag>
    );
  if (p.countLow)
    return (
      <Tag color="orange" data-testid="pin-state" data-state="low">
        {t('keys.pin.low')}
      </Tag>
    );
  return (
    <Tag color="green" data-testid="pin-state" data-state="ok">
      {t('keys.pin.ok')}
    </Tag>
  );
}

function KeyCard(props: { ukey: UKeyView; onChanged(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const k = props.ukey;
  const certs = useLoad(() => call('keys.certificates', { ukeyId: k.ukeyId }), [call, k.ukeyId]);
  // Listing key pairs may need the PIN (private objects): only on request, never on page load.
  const [showPairs, setShowPairs] = useState(false);
  const pairs = useLoad(
    () => (showPairs ? call('keys.pairs', { ukeyId: k.ukeyId }) : Promise.resolve(undefined)),
    [call, k.ukeyId, showPairs],
  );
  const [dialog, setDialog] = useState<'generate' | 'csr' | 'import' | null>(null);
  const [viewing, setViewing] = useState<CertificateView | null>(null);
  const action = useSubmit();
  const reloadAll = (): void => {
    certs.reload();
    pairs.reload();
    props.onChanged();
  };

  const pinAction = async (method: 'keys.changePin' | 'keys.unblockPin'): Promise<void> => {
    await action.attempt(async () => {
      await call(method, { ukeyId: k.ukeyId });
      message.success(t(method === 'keys.changePin' ? 'keys.pinChanged' : 'keys.pinUnblocked'));
    });
    props.onChanged();
  };

  const deleteLabel = async (label: string): Promise<void> => {
    await action.attempt(async () => {
      const r = await call('keys.delete', { ukeyId: k.ukeyId, label });
      message.success(t('keys.deleted', { n: r.deleted }));
    });
    reloadAll();
  };

  return (
    <Card
      data-testid="key-card"
      data-ukey-id={k.ukeyId}
      title={
        <Space wrap>
          <span data-testid="key-label">{k.label}</span>
          <Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>
            {k.manufacturer} {k.model}
          </Typography.Text>
          {k.development && (
            <Tooltip title={t('keys.devTokenHint')}>
              <Tag color="red" data-testid="dev-token-badge">
                {t('keys.devToken')}
              </Tag>
            </Tooltip>
          )}
          <PinState pin={k.pin} />
          {k.loggedIn && <Tag color="blue">{t('keys.loggedIn')}</Tag>}
        </Space>
      }
      extra={
        <Space wrap>
          <Button size="small" data-testid="keygen-open" onClick={() => setDialog('generate')}>
            {t('keys.generate')}
          </Button>
          <Button size="small" data-testid="csr-open" onClick={() => setDialog('csr')}>
            {t('keys.csr')}
          </Button>
          <Button size="small" data-testid="import-open" onClick={() => setDialog('import')}>
            {t('keys.import')}
          </Button>
          <Button
            size="small"
            data-testid="change-pin"
            onClick={() => void pinAction('keys.changePin')}
          >
            {t('keys.changePin')}
          </Button>
          <ConfirmButton
            testId="unblock-pin"
            title={t('keys.unblockPin')}
            content={t('keys.unblockConfirm')}
            onConfirm={() => pinAction('keys.unblockPin')}
          >
            {t('keys.unblockPin')}
          </ConfirmButton>
        </Space>
      }
    >
      <Descriptions size="small" column={3} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('keys.vendor')}>{k.vendor.name}</Descriptions.Item>
        <Descriptions.Item label={t('keys.ukeyId')}>
          <Typography.Text code>{k.ukeyId}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('keys.initialized')}>
          {k.tokenInitialized ? t('common.yes') : t('common.no')}
        </Descriptions.Item>
      </Descriptions>
      {k.pin.locked && (
        <Alert type="error" showIcon style={{ marginBottom: 12 }} message={t('keys.lockedHint')} />
      )}
      <ErrorAlert error={action.error} testId="key-action-error" />

      <Typography.Title level={5}>{t('keys.certificates')}</Typography.Title>
      <ErrorAlert error={certs.error} onRetry={certs.reload} />
      <DataTable<CertificateView>
        testId="cert-table"
        rowKey={(c) => c.sha256}
        loading={certs.loading}
        rows={certs.data}
        empty={t('keys.noCerts')}
        onRow={(c) => rowTid('cert-row', { label: c.label })}
        columns={[
          { title: t('cert.subject'), dataIndex: 'subject', ellipsis: true },
          { title: t('cert.issuer'), dataIndex: 'issuer', ellipsis: true },
          {
            title: t('cert.notAfter'),
            key: 'exp',
            width: 190,
            render: (_, c) => <Expiry cert={c} />,
          },
          {
            title: t('cert.algorithm'),
            dataIndex: 'keyAlgorithm',
            width: 100,
            render: (a: string) => a.toUpperCase(),
          },
          {
            title: t('cert.usage'),
            dataIndex: 'usage',
            width: 90,
            render: (u: CertificateView['usage']) => usageText(t, u),
          },
          {
            title: t('common.actions'),
            key: 'a',
            width: 220,
            render: (_, c) => (
              <Space size="small">
                <Button size="small" data-testid="cert-view" onClick={() => setViewing(c)}>
                  {t('keys.view')}
                </Button>
                <Button size="small" data-testid="cert-export" onClick={() => exportCert(c)}>
                  {t('keys.export')}
                </Button>
                <ConfirmButton
                  testId="cert-delete"
                  danger
                  title={t('keys.deleteTitle', { label: c.label })}
                  content={t('keys.deleteCertConfirm')}
                  onConfirm={() => deleteLabel(c.label)}
                >
                  {t('common.delete')}
                </ConfirmButton>
              </Space>
            ),
          },
        ]}
      />

      <Space style={{ marginTop: 16 }} align="baseline">
        <Typography.Title level={5}>{t('keys.pairs')}</Typography.Title>
        {!showPairs && (
          <Button size="small" data-testid="pairs-show" onClick={() => setShowPairs(true)}>
            {t('keys.pairsShow')}
          </Button>
        )}
        {!showPairs && <Typography.Text type="secondary">{t('keys.pairsHint')}</Typography.Text>}
      </Space>
      <ErrorAlert error={pairs.error} onRetry={pairs.reload} />
      {showPairs && (
        <DataTable<KeyPairView>
          testId="pair-table"
          rowKey={(p) => `${p.keyId}/${p.label}`}
          loading={pairs.loading}
          rows={pairs.data}
          empty={t('keys.noPairs')}
          onRow={(p) => rowTid('pair-row', { label: p.label })}
          columns={[
            { title: t('keys.label'), dataIndex: 'label' },
            {
              title: t('cert.algorithm'),
              dataIndex: 'algorithm',
              render: (a: string) => a.toUpperCase(),
            },
            {
              title: t('keys.keyId'),
              dataIndex: 'keyId',
              render: (id: string) => <Typography.Text code>{id}</Typography.Text>,
            },
            {
              title: t('common.actions'),
              key: 'a',
              width: 120,
              render: (_, p) => (
                <ConfirmButton
                  testId="pair-delete"
                  danger
                  title={t('keys.deleteTitle', { label: p.label })}
                  content={t('keys.deletePairConfirm')}
                  onConfirm={() => deleteLabel(p.label)}
                >
                  {t('common.delete')}
                </ConfirmButton>
              ),
            },
          ]}
        />
      )}

      {viewing && <CertViewer cert={viewing} onClose={() => setViewing(null)} />}
      {dialog === 'generate' && (
        <GenerateDialog
          ukeyId={k.ukeyId}
          onClose={() => setDialog(null)}
          onDone={() => {
            setShowPairs(true);
            reloadAll();
          }}
        />
      )}
      {dialog === 'csr' && (
        <CsrDialog
          ukeyId={k.ukeyId}
          labels={labelsOf(pairs.data, certs.data)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'import' && (
        <ImportDialog
          ukeyId={k.ukeyId}
          labels={labelsOf(pairs.data, certs.data)}
          onClose={() => setDialog(null)}
          onDone={reloadAll}
        />
      )}
    </Card>
  );
}

function exportCert(c: CertificateView): void {
  const name = (c.label || c.sha256.slice(0, 16)).replace(/[^\w.-]+/g, '_');
  saveText(`${name}.pem`, pem(c.der), 'application/x-pem-file');
}

function usageText(t: Translate, u: CertificateView['usage']): string {
  return t(
    u === 'sign'
      ? 'cert.usage.sign'
      : u === 'encrypt'
        ? 'cert.usage.encrypt'
        : u === 'both'
          ? 'cert.usage.both'
          : 'cert.usage.unknown',
  );
}

function Expiry(props: { cert: CertificateView }): JSX.Element {
  const t = useT();
  const c = props.cert;
  const now = Date.now();
  const left = c.notAfter - now;
  const color = left < 0 ? 'red' : left < 30 * DAY_MS ? 'orange' : undefined;
  return (
    <Space
      size={4}
      data-testid="cert-expiry"
      data-state={
        left < 0 ? 'expired' : left < 30 * DAY_MS ? 'soon' : now < c.notBefore ? 'future' : 'ok'
      }
    >
      <span>{dateTime(c.notAfter)}</span>
      {color && (
        <Tag color={color}>
          {left < 0 ? t('cert.expired') : t('cert.expiresIn', { n: Math.ceil(left / DAY_MS) })}
        </Tag>
      )}
      {now < c.notBefore && <Tag color="orange">{t('cert.notYetValid')}</Tag>}
    </Space>
  );
}

function CertViewer(props: { cert: CertificateView; onClose(): void }): JSX.Element {
  const t = useT();
  const c = props.cert;
  return (
    <Modal
      open
      width={760}
      title={t('cert.viewer')}
      onCancel={props.onClose}
      footer={[
        <Button key="e" data-testid="cert-viewer-export" onClick={() => exportCert(c)}>
          {t('keys.export')}
        </Button>,
        <Button key="c" type="primary" data-testid="cert-viewer-close" onClick={props.onClose}>
          {t('common.close')}
        </Button>,
      ]}
    >
      <Descriptions
        data-testid="cert-viewer"
        size="small"
        bordered
        column={1}
        labelStyle={{ width: 160 }}
      >
        <Descriptions.Item label={t('cert.subject')}>
          <span data-testid="cert-viewer-subject">{c.subject}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('cert.issuer')}>{c.issuer}</Descriptions.Item>
        <Descriptions.Item label={t('cert.serial')}>
          <Typography.Text code>{c.serialNumberHex}</Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label={t('cert.validity')}>
          {dateTime(c.notBefore)} — <Expiry cert={c} />
        </Descriptions.Item>
        <Descriptions.Item label={t('cert.algorithm')}>
          {c.keyAlgorithm.toUpperCase()}
        </Descriptions.Item>
        <Descriptions.Item label={t('cert.usage')}>
          {usageText(t, c.usage)}
          {c.keyUsage && (
            <div data-testid="cert-viewer-key-usage">
              {c.keyUsage.map((u) => (
                <Tag key={u}>{u}</Tag>
              ))}
            </div>
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('cert.signatureAlgorithm')}>
          <span data-testid="cert-viewer-sig-alg">{c.signatureAlgorithm}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('keys.label')}>{c.label}</Descriptions.Item>
        <Descriptions.Item label="SHA-256">
          <Typography.Text
            code
            copyable={{ text: c.sha256 }}
            style={{ wordBreak: 'break-all' }}
            data-testid="cert-viewer-sha256"
          >
            {fingerprint(c.sha256)}
          </Typography.Text>
        </Descriptions.Item>
        <Descriptions.Item label="SM3">
          <Typography.Text code copyable={{ text: c.sm3 }} style={{ wordBreak: 'break-all' }}>
            {fingerprint(c.sm3)}
          </Typography.Text>
        </Descriptions.Item>
      </Descriptions>
    </Modal>
  );
}

function GenerateDialog(props: { ukeyId: string; onClose(): void; onDone(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const [algorithm, setAlgorithm] = useState<KeyGenAlgorithmName>('sm2');
  const [label, setLabel] = useState('');
  const valid = /^[\w.@-]{1,64}$/u.test(label);
  return (
    <FormDialog
      title={t('keys.generate')}
      testIds={{
        form: 'keygen-modal',
        ok: 'keygen-ok',
        cancel: 'keygen-cancel',
        error: 'keygen-error',
      }}
      okText={t('keys.generateOk')}
      okDisabled={!valid}
      onClose={props.onClose}
      onSubmit={async () => {
        const p = await call('keys.generate', { ukeyId: props.ukeyId, algorithm, label });
        message.success(t('keys.generated', { label: p.label }));
        props.onDone();
      }}
    >
      <Form.Item label={t('keys.algorithm')}>
        <Select<KeyGenAlgorithmName>
          data-testid="keygen-algorithm"
          value={algorithm}
          onChange={setAlgorithm}
          options={[
            { value: 'sm2', label: 'SM2' },
            { value: 'rsa2048', label: 'RSA 2048' },
            { value: 'ec-p256', label: 'ECDSA P-256' },
          ]}
        />
      </Form.Item>
      <Form.Item
        label={t('keys.label')}
        help={label && !valid ? t('keys.labelHelp') : undefined}
        validateStatus={label && !valid ? 'error' : undefined}
      >
        <Input
          data-testid="keygen-label"
          value={label}
          maxLength={64}
          onChange={(e) => setLabel(e.target.value)}
        />
      </Form.Item>
    </FormDialog>
  );
}

/** Labels known on the key: of its key pairs (when listed) and of its certificates. */
function labelsOf(
  pairs: KeyPairView[] | undefined,
  certs: CertificateView[] | undefined,
): string[] {
  return [
    ...new Set([...(pairs ?? []).map((p) => p.label), ...(certs ?? []).map((c) => c.label)]),
  ].filter(Boolean);
}

function CsrDialog(props: { ukeyId: string; labels: string[]; onClose(): void }): JSX.Element {
  const t = useT();
  const call = useCall();
  const [keyLabel, setKeyLabel] = useState(props.labels[0] ?? '');
  const [subject, setSubject] = useState('CN=,O=,C=CN');
  const [csr, setCsr] = useState<string>();
  const { busy, error, run } = useSubmit();
  const submit = (): Promise<boolean> =>
    run(async () => {
      setCsr((await call('keys.csr', { ukeyId: props.ukeyId, keyLabel, subject })).pem);
    });
  return (
    <Modal
      open
      width={680}
      title={t('keys.csr')}
      onCancel={props.onClose}
      footer={[
        <Button key="c" data-testid="csr-close" onClick={props.onClose}>
          {t('common.close')}
        </Button>,
        csr ? (
          <Button
            key="s"
            type="primary"
            data-testid="csr-save"
            onClick={() => saveText(`${keyLabel || 'request'}.csr`, csr, 'application/pkcs10')}
          >
            {t('keys.csrSave')}
          </Button>
        ) : (
          <Button
            key="ok"
            type="primary"
            data-testid="csr-ok"
            loading={busy}
            disabled={!keyLabel || !subject}
            onClick={() => void submit()}
          >
            {t('keys.csrMake')}
          </Button>
        ),
      ]}
    >
      <Form layout="vertical" data-testid="csr-modal">
        <Form.Item label={t('keys.csrKey')}>
          <AutoComplete
            data-testid="csr-key"
            value={keyLabel}
            onChange={setKeyLabel}
            placeholder={t('keys.csrKeyHelp')}
            options={props.labels.map((l) => ({ value: l, label: l }))}
          />
        </Form.Item>
        <Form.Item label={t('keys.csrSubject')} extra={t('keys.csrSubjectHelp')}>
          <Input
            data-testid="csr-subject"
            value={subject}
            onChange={(e) => setSubject(e.target.value)}
            maxLength={1024}
          />
        </Form.Item>
        <ErrorAlert error={error} testId="csr-error" />
        {csr && (
          <Form.Item label="PEM">
            <Input.TextArea
              data-testid="csr-pem"
              readOnly
              value={csr}
              autoSize={{ minRows: 6, maxRows: 14 }}
              style={{ fontFamily: 'monospace' }}
            />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

function ImportDialog(props: {
  ukeyId: string;
  labels: string[];
  onClose(): void;
  onDone(): void;
}): JSX.Element {
  const t = useT();
  const call = useCall();
  const { message } = App.useApp();
  const [text, setText] = useState('');
  const [keyLabel, setKeyLabel] = useState<string>();
  const submit = useSubmit();
  return (
    <FormDialog
      width={680}
      title={t('keys.import')}
      testIds={{
        form: 'import-modal',
        ok: 'import-ok',
        cancel: 'import-cancel',
        error: 'import-error',
      }}
      okText={t('keys.importOk')}
      okDisabled={!text.trim()}
      submit={submit}
      onClose={props.onClose}
      onSubmit={async () => {
        const c = await call('keys.importCert', {
          ukeyId: props.ukeyId,
          certificate: text.trim(),
          ...(keyLabel ? { keyLabel } : {}),
        });
        message.success(t('keys.imported', { subject: c.subject }));
        props.onDone();
      }}
    >
      <Form.Item label={t('keys.importPem')}>
        <Input.TextArea
          data-testid="import-pem"
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 6, maxRows: 14 }}
          placeholder="-----BEGIN CERTIFICATE-----"
          style={{ fontFamily: 'monospace' }}
        />
      </Form.Item>
      <Upload
        accept=".pem,.crt,.cer,.der"
        maxCount={1}
        showUploadList={false}
        beforeUpload={(file) => {
          void readCertFile(file).then(setText, (e: unknown) => submit.setError(e));
          return false;
        }}
      >
        <Button data-testid="import-file">{t('keys.importFile')}</Button>
      </Upload>
      <Form.Item label={t('keys.importKey')} style={{ marginTop: 12 }}>
        <AutoComplete
          allowClear
          data-testid="import-key"
          value={keyLabel}
          onChange={(v: string) => setKeyLabel(v || undefined)}
          placeholder={t('keys.importKeyAuto')}
          options={props.labels.map((l) => ({ value: l, label: l }))}
        />
      </Form.Item>
    </FormDialog>
  );
}

/** PEM as is; DER as base64 (the agent takes either). */
async function readCertFile(file: File): Promise<string> {
  const buf = new Uint8Array(await file.arrayBuffer());
  const head = new TextDecoder().decode(buf.slice(0, 64));
  if (head.includes('-----BEGIN')) return new TextDecoder().decode(buf);
  let s = '';
  for (const b of buf) s += String.fromCharCode(b);
  return btoa(s);
}
