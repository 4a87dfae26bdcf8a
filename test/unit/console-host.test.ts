import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ConsoleHost } from '../../main/cli/console-host';
import type { ApprovalRequest } from '../../main/core/host';

const req: ApprovalRequest = {
  requestId: 'r1',
  origin: 'https://seal.example.cn',
  appId: 'demo-web',
  sealCode: 'ES1',
  sealName: '合同专用章',
  ukeyId: 'SUK1',
  tokenLabel: 'Key',
  development: true,
  certSubject: 'CN=张三',
  format: 'P1',
  hashName: 'sm3',
  digestHex: 'ab'.repeat(100),
};

function host(interactive = true) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  return { h: new ConsoleHost({ input, output, interactive }), input, shown: () => shown };
}

describe('console approval host', () => {
  it('shows the browser origin, seal, key, format and a shortened digest; y approves', async () => {
    const { h, input, shown } = host();
    const p = h.approve(req, new AbortController().signal);
    setImmediate(() => input.write('y\n'));
    assert.equal(await p, 'approved');
    assert.match(shown(), /https:\/\/seal\.example\.cn/);
    assert.match(shown(), /合同专用章 \[ES1\]/);
    assert.match(shown(), /DEVELOPMENT TOKEN/);
    assert.match(shown(), /\(100 bytes\)/);
  });

  it('anything but y declines; a timeout (abort) declines; prompts are taken one at a time', async () => {
    const { h, input } = host();
    const ac = new AbortController();
    const first = h.approve(req, ac.signal);
    const second = h.approve({ ...req, requestId: 'r2' }, new AbortController().signal);
    setImmediate(() => ac.abort());
    assert.equal(await first, 'declined');
    setImmediate(() => input.write('n\n'));
    assert.equal(await second, 'declined');
  });

  it('without a terminal nothing is approved and no PIN is given', async () => {
    const { h } = host(false);
    assert.equal(await h.approve(req, new AbortController().signal), 'declined');
    assert.equal(
      await h.askPin({ ukeyId: 'SUK1', tokenLabel: 'Key', kind: 'user', reason: 'x' }),
      null,
    );
  });

  it('asks the PIN at the terminal, showing the tries left', async () => {
    const { h, input, shown } = host();
    const p = h.askPin({
      ukeyId: 'SUK1',
      tokenLabel: 'Key',
      kind: 'user',
      reason: 'sign',
      triesLeft: 4,
    });
    setImmediate(() => input.write('1234\r'));
    assert.equal(await p, '1234');
    assert.match(shown(), /4 tries left/);
    assert.doesNotMatch(shown(), /1234/);
  });

  it('turns echo off before the PIN prompt shows, so type-ahead is never echoed', async () => {
    // A fake terminal that records, for every byte written, whether raw mode was on.
    let rawMode = false;
    const events: string[] = [];
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: (on: boolean) => {
        rawMode = on;
        events.push(on ? 'raw-on' : 'raw-off');
      },
    });
    const output = new PassThrough();
    const write = output.write.bind(output) as (c: unknown) => boolean;
    output.write = ((c: unknown) => {
      events.push(`write(raw=${rawMode})`);
      return write(c);
    }) as typeof output.write;
    const h = new ConsoleHost({ input, output, interactive: true });
    const p = h.askPin({ ukeyId: 'SUK1', tokenLabel: 'Key', kind: 'user', reason: 'sign' });
    setImmediate(() => input.write('1234\r'));
    assert.equal(await p, '1234');
    assert.equal(events[0], 'raw-on', events.join(' '));
    assert.equal(events[1], 'write(raw=true)', 'the prompt is written with echo already off');
    assert.equal(events.at(-1), 'write(raw=false)', 'the closing newline after echo is back');
    assert.ok(events.includes('raw-off'));
  });
});
