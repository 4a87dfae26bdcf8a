/**
 * One async action's state: busy while it runs, the last error for an ErrorAlert. Every dialog and
 * screen action had its own copy of "clear the error, try, keep the error, unset busy".
 */
import { useState } from 'react';
import type { FormInstance } from 'antd';

export interface ErrorState {
  error: unknown;
  setError: (e: unknown) => void;
}

export interface Submit<B> extends ErrorState {
  /** What is running (true for a plain run), false when idle. */
  busy: B | false;
  /** Clears the error, marks busy with `what`, runs fn; a throw lands in `error`. True on success. */
  run: (fn: () => Promise<unknown>, what?: B) => Promise<boolean>;
  /** The same without marking busy (actions whose button shows its own progress). */
  attempt: (fn: () => Promise<unknown>) => Promise<boolean>;
}

/** `shared`: report into another action's error (several buttons, one alert). */
export function useSubmit<B = true>(shared?: ErrorState): Submit<B> {
  const [busy, setBusy] = useState<B | false>(false);
  const [ownError, setOwnError] = useState<unknown>();
  const error = shared ? shared.error : ownError;
  const setError = shared ? shared.setError : setOwnError;
  const attempt = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const run = async (fn: () => Promise<unknown>, what = true as B): Promise<boolean> => {
    setBusy(() => what);
    try {
      return await attempt(fn);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run, attempt };
}

/** The form's values, or undefined when a field is invalid (antd shows why under the field). */
export async function validated<T>(form: FormInstance<T>): Promise<T | undefined> {
  try {
    return await form.validateFields();
  } catch {
    return undefined;
  }
}
