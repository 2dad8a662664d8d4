// Frames on a container's attach socket (monitor <-> `pod attach`/`start -a`):
// one type byte, a 4-byte big-endian length, then the payload.
export const Frame = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  Exit: 3,
  Resize: 4,
  StdinEnd: 5,
} as const;

export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Accumulates bytes and yields whole frames. */
export class FrameReader {
  private buf = new Uint8Array(0);

  push(data: Uint8Array): { type: number; payload: Uint8Array }[] {
    const joined = new Uint8Array(this.buf.length + data.length);
    joined.set(this.buf);
    joined.set(data, this.buf.length);
    const frames: { type: number; payload: Uint8Array }[] = [];
    let off = 0;
    while (joined.length - off >= 5) {
      const len = new DataView(joined.buffer, joined.byteOffset + off + 1, 4).getUint32(0);
      if (joined.length - off - 5 < len) break;
      frames.push({ type: joined[off]!, payload: joined.slice(off + 5, off + 5 + len) });
      off += 5 + len;
    }
    this.buf = joined.slice(off);
    return frames;
  }
}

export function resizePayload(rows: number, cols: number): Uint8Array {
  const p = new Uint8Array(4);
  const v = new DataView(p.buffer);
  v.setUint16(0, rows);
  v.setUint16(2, cols);
  return p;
}

export function parseResize(p: Uint8Array): { rows: number; cols: number } {
  const v = new DataView(p.buffer, p.byteOffset, 4);
  return { rows: v.getUint16(0), cols: v.getUint16(2) };
}
