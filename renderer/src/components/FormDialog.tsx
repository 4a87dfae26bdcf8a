/**
 * The dialogs' common shell: an antd Modal around a vertical Form, OK runs onSubmit (after the
 * form validates, when there is one) with the button busy; a throw shows in an ErrorAlert at the
 * form's end and keeps the dialog open; success closes it.
 */
import { Form, Modal } from 'antd';
import type { FormInstance } from 'antd';
import type { ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert';
import { tid } from '../util/tid';
import { useSubmit, validated } from '../util/submit';
import type { Submit } from '../util/submit';

export interface FormDialogIds {
  form: string;
  ok: string;
  cancel?: string;
  error: string;
}

export function FormDialog<T extends object = object>(props: {
  title: ReactNode;
  testIds: FormDialogIds;
  width?: number;
  okText?: string;
  okDisabled?: boolean;
  /** Validated before onSubmit, which receives its values. */
  form?: FormInstance<T>;
  initialValues?: Partial<T>;
  /** The dialog's own submit state, when its body also reports errors (else one of its own). */
  submit?: Submit<true>;
  onClose(): void;
  onSubmit(values: T): Promise<unknown>;
  children: ReactNode;
}): JSX.Element {
  const own = useSubmit();
  const s = props.submit ?? own;
  const ok = async (): Promise<void> => {
    let values = {} as T;
    if (props.form) {
      const v = await validated(props.form);
      if (v === undefined) return;
      values = v;
    }
    await s.run(async () => {
      await props.onSubmit(values);
      props.onClose();
    });
  };
  const ids = props.testIds;
  return (
    <Modal
      open
      width={props.width}
      title={props.title}
      onCancel={props.onClose}
      okText={props.okText}
      okButtonProps={{
        ...(props.okDisabled !== undefined ? { disabled: props.okDisabled } : {}),
        loading: s.busy,
        ...tid(ids.ok),
      }}
      cancelButtonProps={ids.cancel ? tid(ids.cancel) : undefined}
      onOk={() => void ok()}
    >
      <Form<T>
        form={props.form}
        layout="vertical"
        data-testid={ids.form}
        initialValues={props.initialValues}
      >
        {props.children}
        <ErrorAlert error={s.error} testId={ids.error} />
      </Form>
    </Modal>
  );
}
