// The demo page: lists seals (from its server), has its server prepare the PDF and sign the JSAPI
// request, hands that request to the local agent through the SDK, and shows the platform's verdict.
// The page never holds the app key or the PIN.
import { AgentClient, AgentError } from '/sdk/index.js';

const $ = (id) => document.getElementById(id);

/** User-facing text per result code (the agent's own message is for developers). */
const TEXTS = {
  1002: '请求签名无效 · The request signature did not verify',
  1005: '本页面未在签章助手登记 · This page is not registered with the agent',
  2001: '未检测到所需 UKey · The UKey is not plugged in',
  2002: 'PIN 错误或已锁定 · Wrong PIN, or the UKey is locked',
  2003: '签章人拒绝了本次签章 · The signer declined',
  2004: '签章人未及时确认 · The signer did not answer in time',
  2005: '签章授权 (signId) 无效 · The signId is not valid: try again',
  2006: '印章状态异常 · The seal cannot be used',
  3001: '电子印章平台不可用 · The e-seal platform is unavailable',
  AGENT_UNREACHABLE: '未连接到签章助手 · No agent answered: is `ukey-agent serve --demo` running?',
  TIMEOUT: '签章助手无响应 · The agent did not answer in time',
};

class ServerError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** A call to this app's own server; failures carry the server's {code, message}. */
async function server(path, body) {
  const res = await fetch(path, {
    method: body ? 'POST' : 'GET',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({ code: '5000', message: `HTTP ${res.status}` }));
  if (!res.ok) throw new ServerError(String(json.code), json.message);
  return json;
}

function showError(e, where) {
  const code = e instanceof AgentError || e instanceof ServerError ? String(e.code) : '';
  const box = $('error');
  box.hidden = false;
  box.dataset.code = code;
  box.replaceChildren();
  const title = document.createElement('strong');
  title.textContent = `${TEXTS[code] ?? '出错了 · Something went wrong'}${code ? ` (code ${code})` : ''}`;
  const detail = document.createElement('div');
  detail.className = 'detail';
  detail.textContent = `${where}: ${e.message}`;
  box.append(title, detail);
}

function renderSeals(seals) {
  const list = $('seals');
  list.replaceChildren();
  if (seals.length === 0) list.textContent = 'No UKey seals are filed for this organisation.';
  for (const [i, s] of seals.entries()) {
    const label = document.createElement('label');
    label.className = 'seal';
    label.dataset.sealCode = s.sealCode;
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'seal';
    radio.value = s.sealCode;
    radio.dataset.ukeyId = s.UKeyId;
    radio.checked = i === 0;
    const img = document.createElement('img');
    img.alt = s.sealName;
    img.src = `data:image/png;base64,${s.image}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const name = document.createElement('strong');
    name.textContent = s.sealName;
    const code = document.createElement('code');
    code.textContent = `${s.sealCode} · UKey ${s.UKeyId}`;
    meta.append(name, code);
    label.append(radio, img, meta);
    list.append(label);
  }
}

function renderVerdict(finished) {
  const v = finished.verdict;
  $('result').hidden = false;
  const verdict = $('verdict');
  verdict.dataset.verified = String(v.verifyResult);
  verdict.textContent = v.verifyResult
    ? '✔ 验证通过 · Verified by the platform'
    : '✘ 验证未通过 · The platform did not verify it';
  const d = v.details[0];
  const rows = [
    ['File', `${v.fileName} (${v.fileSize} bytes)`],
    ['Signatures', String(v.signCount)],
    ...(d
      ? [
          ['Seal', `${d.sealCode} (${d.sealType})`],
          ['Signer', d.cert0wner],
          ['Certificate', `${d.certSn}, issued by ${d.certIssuer}`],
          ['Signed at', d.signTime],
        ]
      : []),
  ];
  $('summary').replaceChildren(
    ...rows.flatMap(([k, val]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = val;
      return [dt, dd];
    }),
  );
  $('steps').replaceChildren(
    ...v.details.flatMap((detail) =>
      detail.flowVoList.map((step) => {
        const li = document.createElement('li');
        li.dataset.status = String(step.status);
        const mark = document.createElement('span');
        mark.className = 'mark';
        mark.textContent = step.status === 1 ? '✔' : '✘';
        li.append(mark, `${step.step}: ${step.hint}`);
        return li;
      }),
    ),
  );
  const link = $('download');
  link.href = `/api/documents/${finished.documentId}/signed.pdf`;
  link.download = finished.fileName;
}

async function sign(agent) {
  const picked = document.querySelector('input[name="seal"]:checked');
  if (!picked) return;
  const button = $('sign');
  button.disabled = true;
  $('error').hidden = true;
  $('result').hidden = true;
  const progress = $('progress');
  try {
    progress.textContent = 'Preparing the contract PDF and the signed request…';
    const started = await server('/api/sign-requests', {
      UKeyId: picked.dataset.ukeyId,
      sealCode: picked.value,
    });
    progress.textContent =
      '请在签章助手中确认并输入 PIN · Approve in the agent and type the PIN there…';
    let signature;
    try {
      signature = await agent.sign(started.request);
    } catch (e) {
      progress.textContent = '';
      return showError(e, 'agent');
    }
    progress.textContent = 'Embedding the signature and asking the platform to verify…';
    const finished = await server(`/api/documents/${started.documentId}/signature`, { signature });
    progress.textContent = '';
    renderVerdict(finished);
  } catch (e) {
    progress.textContent = '';
    showError(e, 'server');
  } finally {
    button.disabled = false;
  }
}

async function main() {
  const config = await server('/api/config');
  const agent = new AgentClient({ port: config.agentPort });
  const status = $('agent-status');
  const connected = (s) => {
    status.dataset.state = 'ok';
    status.textContent = `签章助手已连接 · Agent ${s.version} on port ${config.agentPort}, ${s.ukeyCount} UKey(s)`;
  };
  agent
    .connect()
    .then(connected)
    .catch((e) => {
      status.dataset.state = 'error';
      status.textContent = TEXTS[e.code] ?? e.message;
    });
  agent.on('disconnected', () => {
    status.dataset.state = 'error';
    status.textContent = '签章助手已断开，正在重连… · Agent disconnected, reconnecting…';
  });
  // After a reconnect: the status again (the UKey count may have changed meanwhile).
  agent.on('connected', () => void agent.status().then(connected, () => {}));
  try {
    const { seals } = await server('/api/seals');
    renderSeals(seals);
    $('sign').disabled = seals.length === 0;
  } catch (e) {
    $('seals').textContent = '';
    showError(e, 'seals');
  }
  $('sign').addEventListener('click', () => void sign(agent));
  document.body.dataset.ready = 'true';
}

void main();
