// Volume names: podman's grammar, and the random names of volumes made
// without one (`volume create` with no NAME, `-v /path`).
import { UsageError } from "../errors.ts";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isVolumeName(name: string): boolean {
  return NAME.test(name);
}

/** Returns the name, or throws a UsageError naming it. */
export function checkVolumeName(name: string): string {
  if (!isVolumeName(name))
    throw new UsageError(`invalid volume name ${JSON.stringify(name)}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`, {
      hint: "use letters, digits, _, . and -, starting with a letter or digit",
    });
  return name;
}

/** 64 random hex digits, as podman names volumes made without a name. */
export function newVolumeName(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}
