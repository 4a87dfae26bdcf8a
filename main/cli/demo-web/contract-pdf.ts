// The demo's document: a one-page contract made with pdf-lib. Latin text in a standard font, so the
// PDF needs no embedded CJK font (none ships with the repository).
import { PDFDocument, StandardFonts, rgb } from '@cantoo/pdf-lib';

export interface ContractDetails {
  /** Shown on the page and used as the file name. */
  number: string;
  sealCode: string;
  ukeyId: string;
  createdAt: Date;
}

/** Where the seal goes (PDF points): above the signature line at the lower right. */
export const SEAL_RECT: [number, number, number, number] = [400, 90, 520, 210];

const CLAUSES = [
  '1. The Supplier delivers 100 units of the goods listed in Annex A by 30 June.',
  '2. The Buyer pays the agreed price within 30 days of delivery.',
  '3. Either party may end this contract with 30 days of written notice.',
  '4. This contract takes effect when sealed with the electronic seal below.',
];

/** The unsigned contract PDF (saved without object streams, as preparePdfForSignature expects). */
export async function buildContractPdf(d: ContractDetails): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Contract ${d.number}`);
  doc.setProducer('ukey-agent demo web app');
  doc.setCreationDate(d.createdAt);
  const page = doc.addPage([595, 842]); // A4
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const ink = rgb(0.1, 0.1, 0.1);
  let y = 770;
  const line = (text: string, size = 11, f = font): void => {
    page.drawText(text, { x: 60, y, size, font: f, color: ink });
    y -= size + 10;
  };
  line('SUPPLY CONTRACT', 20, bold);
  line(`Contract No. ${d.number}`, 12);
  y -= 10;
  line('Buyer:    Demo Trading Co., Ltd.');
  line(`Supplier: holder of seal ${d.sealCode} (UKey ${d.ukeyId})`);
  line(`Date:     ${d.createdAt.toISOString().slice(0, 10)}`);
  y -= 10;
  for (const c of CLAUSES) line(c);
  y -= 20;
  line('This document is a demonstration of the ukey-agent; it binds nobody.', 9);

  page.drawLine({ start: { x: 380, y: 85 }, end: { x: 540, y: 85 }, thickness: 0.5, color: ink });
  page.drawText('Seal of the Supplier', { x: 400, y: 70, size: 10, font, color: ink });
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
