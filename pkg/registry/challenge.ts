// WWW-Authenticate parsing (RFC 7235 §4.1). A header may hold several
// challenges, and Bun joins repeated headers with ", ", so the grammar decides
// where one challenge ends: `scheme [param=value *("," param=value)]`, where a
// value is a token or a quoted-string with backslash escapes.

export type Challenge = { scheme: string; params: Record<string, string> };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let s = header;
  const skip = (re: RegExp) => {
    s = s.replace(re, "");
  };
  for (;;) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(s)?.[0];
    if (scheme === undefined) return out;
    s = s.slice(scheme.length);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skip(/^[\s,]+/);
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(s);
      // Not `name=`: the next challenge's scheme (or a token68, which
      // registries do not use and which then reads as a scheme of its own).
      if (m === null) break;
      s = s.slice(m[0].length);
      let value: string;
      if (s.startsWith('"')) {
        let i = 1;
        value = "";
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        s = s.slice(i + 1);
      } else {
        // RFC 7235 wants a token here; accept any run up to "," or space, as
        // some servers send URLs unquoted.
        value = /^[^,\s]*/.exec(s)?.[0] ?? "";
        s = s.slice(value.length);
      }
      challenge.params[(m[1] ?? "").toLowerCase()] = value;
    }
  }
}
