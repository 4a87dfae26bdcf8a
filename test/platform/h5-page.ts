// The H5 page behind a cloud authorisation's authUrl: it shows what is being authorised and takes
// the one-time code the holder was sent. Plain HTML with a form POSTed back to the same URL.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { maskMobile } from './mask';
import { H5_PREFIX, MAX_CODE_TRIES, confirmAuth, findAuth } from './cloud-auth';
import type { AuthRow } from './cloud-auth';
import type { PlatformDb } from './database';
import { formatCstDateTime } from './fields';
import { readBody } from './http-io';
import { findSeal } from './seal-store';

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
dt{color:#666}dd{margin:0 0 .6em}input{font-size:1.4em;letter-spacing:.3em;width:7em}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
  const bytes = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(bytes);
}

function summary(db: PlatformDb, auth: AuthRow): string {
  const seal = findSeal(db, auth.seal_code);
  const rows: [string, string][] = [
    ['印章 (seal)', `${seal?.name ?? ''} (${auth.seal_code})`],
    ['持有人 (holder)', seal?.possessor ?? ''],
    ['申请方 (requested by)', auth.app_id],
    ['验证码发送至 (code sent to)', maskMobile(auth.mobile)],
    ['有效期至 (valid until)', `${formatCstDateTime(auth.expires_at)} (UTC+8)`],
  ];
  return `<p>电子印章系统请求使用您的云证书印章签名一次。</p><dl>${rows
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('')}</dl>`;
}

function form(authId: string, note = ''): string {
  return `${note ? `<p role="alert">${escapeHtml(note)}</p>` : ''}
<form method="post" action="${H5_PREFIX}${encodeURIComponent(authId)}">
<label>验证码 (6-digit code) <input name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required></label>
<button type="submit">确认授权 (authorise)</button></form>`;
}

const REFUSALS: Record<string, [number, string]> = {
  unknown: [404, '授权不存在 (unknown authorisation)'],
  expired: [410, '授权已过期 (the authorisation expired)'],
  locked: [403, '验证码错误次数过多，授权已锁定 (too many wrong codes: locked)'],
  done: [409, '授权已确认或已使用 (already confirmed or used)'],
};

/** GET shows the authorisation and the code form; POST (`code=NNNNNN`) confirms it. */
export async function handleAuthPage(
  req: IncomingMessage,
  res: ServerResponse,
  db: PlatformDb,
  now: number,
  ttlMs: number,
): Promise<void> {
  const path = (req.url ?? '').split('?')[0]!;
  let authId: string;
  try {
    authId = decodeURIComponent(path.slice(H5_PREFIX.length));
  } catch {
    authId = '';
  }
  const auth = /^[A-Za-z0-9_-]{1,64}$/.test(authId) ? findAuth(db, authId) : undefined;
  if (!auth) {
    await readBody(req, 0, 64 * 1024).catch(() => undefined);
    page(res, 404, '授权不存在', '<p>The authorisation is unknown.</p>');
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (auth.state !== 'pending' || auth.expires_at <= now) {
      const reason =
        auth.state === 'locked' ? 'locked' : auth.state !== 'pending' ? 'done' : 'expired';
      const [status, text] = REFUSALS[reason]!;
      page(res, status, text, summary(db, auth));
      return;
    }
    page(res, 200, '云证书签名授权', summary(db, auth) + form(authId));
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, POST');
    page(res, 405, 'Method not allowed', '');
    return;
  }
  let code = '';
  try {
    const body = await readBody(req, 4096);
    code = new URLSearchParams(body.toString('utf8')).get('code')?.trim() ?? '';
  } catch {
    page(res, 400, '请求无效 (bad request)', '');
    return;
  }
  const outcome = confirmAuth(db, authId, code, now, ttlMs);
  if (outcome.ok) {
    if (outcome.auth.redirect_url) {
      res.writeHead(303, { Location: outcome.auth.redirect_url, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    page(res, 200, '授权成功 (authorised)', '<p>您可以关闭此页面。You may close this page.</p>');
    return;
  }
  if (outcome.reason === 'wrong') {
    const note = `验证码错误，还可尝试 ${outcome.triesLeft} 次 (wrong code: ${outcome.triesLeft} of ${MAX_CODE_TRIES} tries left)`;
    page(res, 400, '云证书签名授权', summary(db, auth) + form(authId, note));
    return;
  }
  const [status, text] = REFUSALS[outcome.reason]!;
  page(res, status, text, '');
}
