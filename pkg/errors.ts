// Errors pod reports to people. A PodError carries the one line that says what
// failed and why, and an optional hint line with the fix. cmd/main.ts is the only
// place that prints them and decides the exit code.

export type PodErrorInfo = { hint?: string; exit?: number; cause?: unknown };

export class PodError extends Error {
  readonly hint?: string;
  readonly exit: number;
  constructor(message: string, info: PodErrorInfo = {}) {
    super(message, { cause: info.cause });
    this.hint = info.hint;
    this.exit = info.exit ?? 125;
  }
}

/** A command line that pod does not accept (unknown flag, missing argument). */
export class UsageError extends PodError {}
/** A reference that does not follow the docker reference grammar. */
export class InvalidReference extends PodError {}
/** The image is not in local storage. */
export class ImageUnknown extends PodError {}
/** The registry refused our credentials or asked for some. */
export class Unauthorized extends PodError {}
/** Content whose digest is not the one it was asked for. */
export class DigestMismatch extends PodError {}
/** The registry does not have the repository, tag or blob. */
export class NotFoundInRegistry extends PodError {}

/** Prefixes the message of a PodError with what the caller was doing, keeping hint and exit. */
export function wrap(what: string, e: unknown): PodError {
  if (e instanceof PodError) {
    const w = new (e.constructor as typeof PodError)(`${what}: ${e.message}`, { hint: e.hint, exit: e.exit, cause: e.cause });
    return w;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new PodError(`${what}: ${msg}`, { cause: e });
}
/** No container has that name or ID. */
export class NoSuchContainer extends PodError {}
/** The container is not in a state that allows the operation. */
export class ContainerStateInvalid extends PodError {}
/** No volume has that name. */
export class NoSuchVolume extends PodError {}
/** No secret has that name or ID. */
export class NoSuchSecret extends PodError {}
