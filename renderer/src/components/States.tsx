/** Loading and empty states shared by the screens. */
import { Empty, Spin } from 'antd';
import { useT } from '../i18n';
import type { MessageKey } from '../i18n';

export function Loading(): JSX.Element {
  const t = useT();
  return (
    <div style={{ padding: 32, textAlign: 'center' }} data-testid="loading">
      <Spin tip={t('common.loading')}>
        <div style={{ height: 40 }} />
      </Spin>
    </div>
  );
}

export function EmptyState(props: { text: MessageKey; testId?: string }): JSX.Element {
  const t = useT();
  return <Empty description={t(props.text)} data-testid={props.testId ?? 'empty'} />;
}
