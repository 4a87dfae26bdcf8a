/**
 * What the console page shows without a session: the link was already used or is older than 5
 * minutes, the page was opened without a link, the session ended, or the agent is not answering.
 * Each says how to get a new link. Its own small dictionary: it is shown before the app exists.
 */
import { Result, Typography } from 'antd';
import { useI18n } from '../i18n';
import type { Lang } from '../i18n';
import type { SessionProblemKind } from './session';

const TEXT: Record<
  Lang,
  Record<SessionProblemKind, { title: string; body: string }> & { how: string }
> = {
  'zh-CN': {
    'link-invalid': {
      title: '链接无效或已使用',
      body: '控制台链接只能使用一次，5 分钟内有效。',
    },
    'no-link': {
      title: '需要控制台链接',
      body: '请使用 ukey-agent serve --console 打印的一次性链接打开控制台。',
    },
    expired: {
      title: '控制台会话已结束',
      body: '代理已重启，或会话空闲超过 12 小时。',
    },
    unreachable: {
      title: '无法连接代理',
      body: '代理没有响应。请确认 ukey-agent serve --console 正在运行。',
    },
    how: '获取新链接：',
  },
  'en-US': {
    'link-invalid': {
      title: 'This link is not valid any more',
      body: 'A console link works once, within 5 minutes.',
    },
    'no-link': {
      title: 'Open the console with its link',
      body: 'Use the one-time link ukey-agent serve --console printed.',
    },
    expired: {
      title: 'The console session has ended',
      body: 'The agent restarted, or the session was idle for 12 hours.',
    },
    unreachable: {
      title: 'The agent cannot be reached',
      body: 'The agent does not answer. Check that ukey-agent serve --console is running.',
    },
    how: 'For a new link: ',
  },
};

export function SessionProblem(props: { kind: SessionProblemKind }): JSX.Element {
  const { lang } = useI18n();
  const text = TEXT[lang];
  const { title, body } = text[props.kind];
  return (
    <div data-testid="session-problem" data-kind={props.kind}>
      <Result
        status={props.kind === 'unreachable' ? 'warning' : '403'}
        title={<span data-testid="session-problem-title">{title}</span>}
        subTitle={body}
        extra={
          <Typography.Paragraph>
            {text.how}
            <Typography.Text code copyable>
              kill -USR1 &lt;pid&gt;
            </Typography.Text>{' '}
            {lang === 'zh-CN'
              ? '（或重新启动 ukey-agent serve --console）'
              : '(or restart ukey-agent serve --console)'}
          </Typography.Paragraph>
        }
      />
    </div>
  );
}
