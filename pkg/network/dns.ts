// The DNS messages the user networks' responder reads and writes (RFC 1035),
// pure: one question in, an answer for a name pod knows, else the query
// goes upstream unchanged.

export type Question = { id: number; name: string; type: number; klass: number; end: number; recursion: boolean };

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
const CLASS_IN = 1;

/** The first question of a query, or undefined for anything else (responses, malformed packets, compressed questions). */
export function parseQuery(msg: Uint8Array): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = (msg[2]! << 8) | msg[3]!;
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0) return undefined; // a response, or not a standard query
  if (((msg[4]! << 8) | msg[5]!) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i]!;
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(new TextDecoder().decode(msg.subarray(i + 1, i + 1 + len)));
    i += 1 + len;
  }
  i++;
  if (i + 4 > msg.length) return undefined;
  return {
    id: (msg[0]! << 8) | msg[1]!,
    name: labels.join(".").toLowerCase(),
    type: (msg[i]! << 8) | msg[i + 1]!,
    klass: (msg[i + 2]! << 8) | msg[i + 3]!,
    end: i + 4,
    recursion: (flags & 0x0100) !== 0,
  };
}

/**
 * The answer to q, copied from the query: the addresses of q's family for
 * an A or AAAA question, none for another type of a known name (NOERROR, no data), or
 * NXDOMAIN when `addresses` is undefined.
 */
export function buildAnswer(query: Uint8Array, q: Question, addresses: string[] | undefined, ttl = 60): Uint8Array {
  const v6 = q.type === TYPE_AAAA;
  const answers = addresses && (q.type === TYPE_A || v6) && q.klass === CLASS_IN ? addresses.filter((a) => a.includes(":") === v6) : [];
  const size = v6 ? 16 : 4;
  const out = new Uint8Array(q.end + answers.length * (12 + size));
  out.set(query.subarray(0, q.end));
  // QR, AA, RD copied, RA; rcode 3 (NXDOMAIN) for an unknown name
  out[2] = 0x84 | (q.recursion ? 1 : 0);
  out[3] = 0x80 | (addresses === undefined ? 3 : 0);
  out[4] = 0;
  out[5] = 1;
  out[6] = answers.length >> 8;
  out[7] = answers.length & 0xff;
  out.fill(0, 8, 12); // no authority, no additional records
  let o = q.end;
  for (const a of answers) {
    out.set([0xc0, 12, 0, q.type, 0, CLASS_IN, (ttl >>> 24) & 0xff, (ttl >>> 16) & 0xff, (ttl >>> 8) & 0xff, ttl & 0xff, 0, size], o);
    out.set(v6 ? ipv6Bytes(a) : a.split(".").map(Number), o + 12);
    o += 12 + size;
  }
  return out;
}

/** The 16 bytes of an IPv6 address (with at most one "::"). */
export function ipv6Bytes(a: string): number[] {
  const [head, tail] = a.includes("::") ? (a.split("::") as [string, string]) : [a, undefined];
  const groups = (x: string) => (x ? x.split(":").map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** SERVFAIL for a query no upstream answered. */
export function buildFailure(query: Uint8Array, q: Question): Uint8Array {
  const out = new Uint8Array(q.end);
  out.set(query.subarray(0, q.end));
  out[2] = 0x80 | (q.recursion ? 1 : 0);
  out[3] = 0x82;
  out.fill(0, 6, 12);
  return out;
}

/** The domain podman's DNS gives container names (and puts in their resolv.conf's search list). */
export const SEARCH_DOMAIN = "dns.podman";

/** The bare name a query asks for: "web" for web, web.dns.podman and web. */
export function bareName(name: string): string {
  const n = name.replace(/\.$/, "");
  return n.endsWith(`.${SEARCH_DOMAIN}`) ? n.slice(0, -SEARCH_DOMAIN.length - 1) : n;
}

/** Whether a name can only be a container's: one label, or one in pod's domain. */
export const isLocalName = (name: string) => {
  const n = name.replace(/\.$/, "");
  return !n.includes(".") || n === SEARCH_DOMAIN || n.endsWith(`.${SEARCH_DOMAIN}`);
};
