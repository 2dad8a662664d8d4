import type { Credentials } from "../pkg/registry/index.ts";
import { UsageError } from "../pkg/errors.ts";

/** --creds USER[:PASSWORD]; the password is never echoed in errors. */
export function credentialsFlag(v: string | undefined): Credentials | undefined {
  if (v === undefined) return undefined;
  const i = v.indexOf(":");
  if (i <= 0) throw new UsageError("--creds needs USERNAME:PASSWORD", { hint: "or run `pod login` first and drop --creds" });
  return { username: v.slice(0, i), password: v.slice(i + 1) };
}
