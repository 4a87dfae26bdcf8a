import type { zhCN } from './zh-CN';

/** Every message key: the zh-CN dictionary is the source of truth. */
export type MessageKey = keyof typeof zhCN;
export type Messages = Readonly<Record<MessageKey, string>>;
