/** A button that asks before it acts; the dialog has stable test ids (confirm-ok / confirm-cancel). */
import { Button, Modal } from 'antd';
import type { ButtonProps } from 'antd';
import { useState } from 'react';
import type { ReactNode } from 'react';
import { useT } from '../i18n';

export function ConfirmButton(props: {
  testId: string;
  title: ReactNode;
  content?: ReactNode;
  okText?: string;
  danger?: boolean;
  size?: ButtonProps['size'];
  disabled?: boolean;
  children: ReactNode;
  onConfirm: () => Promise<unknown> | void;
}): JSX.Element {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button
        size={props.size ?? 'small'}
        danger={props.danger}
        disabled={props.disabled}
        data-testid={props.testId}
        onClick={() => setOpen(true)}
      >
        {props.children}
      </Button>
      <Modal
        open={open}
        title={props.title}
        onCancel={() => setOpen(false)}
        destroyOnHidden
        footer={[
          <Button key="c" data-testid="confirm-cancel" onClick={() => setOpen(false)}>
            {t('common.cancel')}
          </Button>,
          <Button
            key="ok"
            type="primary"
            danger={props.danger}
            loading={busy}
            data-testid="confirm-ok"
            onClick={async () => {
              setBusy(true);
              try {
                await props.onConfirm();
              } finally {
                setBusy(false);
                setOpen(false);
              }
            }}
          >
            {props.okText ?? t('common.confirm')}
          </Button>,
        ]}
      >
        <div data-testid="confirm-modal">{props.content}</div>
      </Modal>
    </>
  );
}
