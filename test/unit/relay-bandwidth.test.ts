import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BandwidthLimiter, cachedReader } from '../../main/core/relay/bandwidth';
import { TransferStopped } from '../../main/core/relay/transfer';

/** A limiter on a fake clock whose sleeps advance that clock: time is exact and instant. */
function fake(rate: { v: number }) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const limiter = new BandwidthLimiter(
    () => rate.v,
    () => now,
    async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  );
  return { limiter, sleeps, elapsed: () => now - 1_000_000, advance: (ms: number) => (now += ms) };
}

const never = new AbortController().signal;

describe('relay bandwidth limiter', () => {
  it('without a cap never waits and sends whole chunks', async () => {
    const { limiter, sleeps } = fake({ v: 0 });
    for (let i = 0; i < 100; i++) await limiter.take(8 << 20, never);
    assert.deepEqual(sleeps, []);
    assert.equal(limiter.pieceBytes(8 << 20), 8 << 20);
  });

  it('holds a long run to the cap, in sleeps short enough to notice a change', async () => {
    const { limiter, sleeps, elapsed } = fake({ v: 1_000_000 });
    assert.equal(limiter.pieceBytes(8 << 20), 500_000, 'half a second of the cap');
    for (let i = 0; i < 20; i++) await limiter.take(500_000, never); // 10 MB
    // 10 MB at 1 MB/s: 10 s, less nothing (the bucket starts empty).
    assert.ok(Math.abs(elapsed() - 10_000) <= 10, `${elapsed()} ms`);
    assert.ok(Math.max(...sleeps) <= 200);
  });

  it('allows at most half a second of burst after an idle spell', async () => {
    const { limiter, elapsed, advance } = fake({ v: 1_000_000 });
    advance(60_000); // idle for a minute
    const start = elapsed();
    await limiter.take(500_000, never);
    assert.equal(elapsed() - start, 0, 'the burst is free');
    await limiter.take(500_000, never);
    assert.ok(elapsed() - start >= 499, 'beyond it, the cap');
  });

  it('a lifted cap forgives the debt; a lowered one slows the next piece', async () => {
    const rate = { v: 1000 };
    const { limiter, elapsed } = fake(rate);
    const waiting = limiter.take(1_000_000, never); // 1000 s at 1 KB/s
    rate.v = 0;
    await waiting;
    assert.ok(elapsed() <= 200, `one tick at most (${elapsed()} ms)`);
    rate.v = 100_000;
    const t = elapsed();
    await limiter.take(100_000, never);
    assert.ok(elapsed() - t >= 999);
    assert.equal(limiter.pieceBytes(8 << 20), 50_000);
    rate.v = 1000;
    assert.equal(limiter.pieceBytes(8 << 20), 16 * 1024, 'never below 16 KiB a piece');
  });

  it('a pause or cancel (abort) ends the wait with TransferStopped', async () => {
    const ac = new AbortController();
    let ticks = 0;
    const l = new BandwidthLimiter(
      () => 1000,
      Date.now,
      async () => {
        if (++ticks === 3) ac.abort();
      },
    );
    await assert.rejects(l.take(1_000_000, ac.signal), TransferStopped);
    assert.equal(ticks, 3);
  });

  it('reads the setting at most once per interval', () => {
    let reads = 0;
    let now = 0;
    const get = cachedReader(
      () => ++reads,
      1000,
      () => now,
    );
    assert.equal(get(), 1);
    now = 999;
    assert.equal(get(), 1);
    now = 1000;
    assert.equal(get(), 2);
  });
});
