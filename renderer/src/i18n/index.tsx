/**
 * Two languages, switchable at runtime and remembered in localStorage. zh-CN is the source
 * dictionary; en-US is typed against its keys, so a missing translation fails the build.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { enUS } from './en-US';
import { zhCN } from './zh-CN';
import type { MessageKey, Messages } from './messages';

export type Lang = 'zh-CN' | 'en-US';
export const LANGS: readonly Lang[] = ['zh-CN', 'en-US'];
const STORAGE_KEY = 'ukey-agent.lang';

const DICTS: Record<Lang, Messages> = { 'zh-CN': zhCN, 'en-US': enUS };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved === 'zh-CN' || saved === 'en-US') return saved;
  } catch {
    // storage may be disabled: default language
  }
  return 'zh-CN';
}

/** `{name}` placeholders are replaced by vars[name]. */
export function format(text: string, vars?: Record<string, string | number>): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function I18nProvider(props: { children: ReactNode }): JSX.Element {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      window.localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // not remembered, still switched
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo<I18n>(() => {
    const dict = DICTS[lang];
    return { lang, setLang, t: (key, vars) => format(dict[key], vars) };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{props.children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error('I18nProvider missing');
  return v;
}

export function useT(): Translate {
  return useI18n().t;
}

export type { MessageKey };
