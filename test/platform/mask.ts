// Telephone numbers shown or logged by the platform are masked: the holder recognises the tail.
export const maskMobile = (m: string): string =>
  m.length <= 7
    ? '*'.repeat(m.length)
    : `${m.slice(0, 3)}${'*'.repeat(m.length - 7)}${m.slice(-4)}`;
