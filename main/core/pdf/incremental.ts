// Incremental update (ISO 32000-1 §7.5.6): appends only the objects that changed, with their own
// xref section, leaving the earlier bytes — and so every earlier signature — untouched. pdf-lib
// 1.17 saves whole files only, so we compare each object's serialisation before and after.
import { PDFName, PDFNumber } from '@cantoo/pdf-lib';
import type { PDFContext, PDFObject } from '@cantoo/pdf-lib';
import { badParam } from '../../common/errors';

export type ObjectSnapshot = Map<string, Buffer>;

const key = (num: number, gen: number): string => `${num} ${gen}`;

function bytesOf(obj: PDFObject): Buffer {
  const out = Buffer.alloc(obj.sizeInBytes());
  obj.copyBytesInto(out, 0);
  return out;
}

/** Every indirect object's serialisation, to tell later which ones were changed or added. */
export function snapshotObjects(ctx: PDFContext): ObjectSnapshot {
  const snap: ObjectSnapshot = new Map();
  for (const [ref, obj] of ctx.enumerateIndirectObjects())
    snap.set(key(ref.objectNumber, ref.generationNumber), bytesOf(obj));
  return snap;
}

/** `original` followed by an update holding the objects that differ from `before`. */
export function appendIncrementalUpdate(
  original: Uint8Array,
  ctx: PDFContext,
  before: ObjectSnapshot,
): Buffer {
  const prev = lastStartXref(Buffer.from(original.buffer, original.byteOffset, original.length));
  const parts: Buffer[] = [Buffer.from(original)];
  let offset = original.length;
  const push = (b: Buffer): void => {
    parts.push(b);
    offset += b.length;
  };
  if (original[original.length - 1] !== 0x0a) push(Buffer.from('\n'));

  const entries: { num: number; gen: number; offset: number }[] = [];
  const changed = ctx
    .enumerateIndirectObjects()
    .sort(([a], [b]) => a.objectNumber - b.objectNumber);
  for (const [ref, obj] of changed) {
    const body = bytesOf(obj);
    const old = before.get(key(ref.objectNumber, ref.generationNumber));
    if (old?.equals(body)) continue;
    entries.push({ num: ref.objectNumber, gen: ref.generationNumber, offset });
    push(Buffer.from(`${ref.objectNumber} ${ref.generationNumber} obj\n`, 'latin1'));
    push(body);
    push(Buffer.from('\nendobj\n', 'latin1'));
  }

  const xrefAt = offset;
  let xref = 'xref\n';
  for (let i = 0; i < entries.length;) {
    let j = i;
    while (j + 1 < entries.length && entries[j + 1]!.num === entries[j]!.num + 1) j++;
    xref += `${entries[i]!.num} ${j - i + 1}\n`;
    for (const e of entries.slice(i, j + 1))
      xref += `${String(e.offset).padStart(10, '0')} ${String(e.gen).padStart(5, '0')} n\r\n`;
    i = j + 1;
  }
  const { Root, Info, ID } = ctx.trailerInfo;
  const trailer = ctx.obj({ Size: ctx.largestObjectNumber + 1 });
  if (Root) trailer.set(PDFName.of('Root'), Root);
  if (Info) trailer.set(PDFName.of('Info'), Info);
  if (ID) trailer.set(PDFName.of('ID'), ID);
  trailer.set(PDFName.of('Prev'), PDFNumber.of(prev));
  push(
    Buffer.from(`${xref}trailer\n${trailer.toString()}\nstartxref\n${xrefAt}\n%%EOF\n`, 'latin1'),
  );
  return Buffer.concat(parts);
}

/** The offset the last `startxref` names: the previous section an update must chain to. */
function lastStartXref(b: Buffer): number {
  const at = b.lastIndexOf('startxref');
  const m = at < 0 ? null : /^startxref\s+(\d+)/.exec(b.subarray(at, at + 40).toString('latin1'));
  if (!m) throw badParam('the PDF has no startxref: it cannot be updated incrementally');
  return Number(m[1]);
}
