// Field checks shared by the repositories: each failure is 1001 and names the field.
import { badParam } from '../../common/errors';

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An appId or sealCode: 1..64 characters of [A-Za-z0-9._-]. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value))
    throw badParam(`${field} must be 1..64 characters of A-Z a-z 0-9 . _ -`);
  return value;
}

export function checkInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw badParam(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

export function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value === '')
    throw badParam(`${field} must be a non-empty string`);
  if (value.length > max) throw badParam(`${field} is longer than ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw badParam(`${field} must not contain control characters`);
  return value;
}
