// Test files for the relay: generated (not stored) content, and digests to compare.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createSm3 } from '../../main/core/crypto/sm3';

/**
 * Writes `size` bytes: a random 1 MiB block, each MiB stamped with its index so no two chunks
 * are alike (a misplaced chunk changes the digest). Memory: one block.
 */
export async function writeGeneratedFile(path: string, size: number): Promise<void> {
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fh = await open(path, 'w');
  try {
    for (let at = 0, n = 0; at < size; at += block.length, n++) {
      block.writeUInt32LE(n, 0);
      const len = Math.min(block.length, size - at);
      await fh.write(block, 0, len, at);
    }
  } finally {
    await fh.close();
  }
}

export async function sm3OfFile(path: string): Promise<string> {
  const h = createSm3();
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest().toString('hex');
}
