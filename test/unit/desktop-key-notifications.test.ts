import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { notifyKeyEvents } from '../../main/desktop/key-notifications';
import type { KeyInfoLike } from '../../main/desktop/key-notifications';

class Keys extends EventEmitter {
  keys: KeyInfoLike[] = [];
  list = (): KeyInfoLike[] => this.keys;
}
const key = (ukeyId: string, over: Partial<KeyInfoLike> = {}): KeyInfoLike => ({
  ukeyId,
  label: `Key ${ukeyId}`,
  development: false,
  pin: { locked: false, finalTry: false },
  ...over,
});

describe('key notifications', () => {
  it('announces keys plugged in and pulled out, with PIN and development warnings', () => {
    const shown: { title: string; body: string; silent?: boolean }[] = [];
    let clicks = 0;
    class Note {
      private click: (() => void) | undefined;
      constructor(readonly o: { title: string; body: string; silent?: boolean }) {}
      show(): void {
        shown.push(this.o);
        this.click?.();
      }
      close(): void {}
      on(_e: 'click', l: () => void): void {
        this.click = l;
      }
    }
    const keys = new Keys();
    keys.keys = [key('A1')];
    const stop = notifyKeyEvents(keys, Note, { onClick: () => clicks++ });
    keys.keys = [
      key('A1'),
      key('B2', { development: true, pin: { locked: true, finalTry: false } }),
    ];
    keys.emit('inserted', { ukeyId: 'B2' });
    keys.keys = [key('A1')];
    keys.emit('removed', { ukeyId: 'B2' });
    keys.emit('removed', { ukeyId: 'A1' }); // seen at start: still named
    keys.emit('inserted', { ukeyId: 'C3' }); // already gone again: nothing
    assert.deepEqual(
      shown.map((n) => [n.title, n.body]),
      [
        [
          'UKey 已插入 / UKey inserted',
          'Key B2 (B2) — PIN 已锁定 / PIN locked — 开发用，不可用于正式签章 / development key, not for production',
        ],
        ['UKey 已拔出 / UKey removed', 'Key B2 (B2)'],
        ['UKey 已拔出 / UKey removed', 'Key A1 (A1)'],
      ],
    );
    assert.equal(clicks, 3);
    stop();
    assert.equal(keys.listenerCount('inserted') + keys.listenerCount('removed'), 0);
  });

  it('a failing notification is logged, not thrown', () => {
    const logged: string[] = [];
    class Broken {
      constructor() {
        throw new Error('no notification daemon');
      }
      show(): void {}
      close(): void {}
      on(): void {}
    }
    const keys = new Keys();
    notifyKeyEvents(keys, Broken, { log: (m) => logged.push(m) });
    keys.keys = [key('D4', { pin: { locked: false, finalTry: true } })];
    keys.emit('inserted', { ukeyId: 'D4' });
    assert.deepEqual(logged, ['notification failed']);
  });
});
