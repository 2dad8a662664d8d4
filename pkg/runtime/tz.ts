// --tz: the zone file bound over the container's /etc/localtime, as podman
// does it: `local` is the host's /etc/localtime, anything else a zone under
// the host's /usr/share/zoneinfo, symlinks resolved.
import { realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";

export const ZONEINFO = "/usr/share/zoneinfo";

/** The host file for `--tz VALUE`; throws podman's "unknown time zone" when there is none. */
export function timezoneFile(tz: string, zoneinfo = ZONEINFO, localtime = "/etc/localtime"): string {
  const unknown = () =>
    new PodError(`finding timezone: unknown time zone ${tz}`, { hint: `use --tz local or an IANA zone such as Europe/Berlin (a file under ${zoneinfo})` });
  if (tz === "") throw unknown();
  const path = tz === "local" ? localtime : join(zoneinfo, tz);
  if (tz !== "local" && (tz.startsWith("/") || tz.split("/").includes(".."))) throw unknown();
  try {
    const real = realpathSync(path);
    if (!statSync(real).isFile()) throw unknown();
    return real;
  } catch (e) {
    if (e instanceof PodError) throw e;
    throw unknown();
  }
}
