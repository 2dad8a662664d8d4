export const stdoutIsTTY = (): boolean => Boolean(process.stdout.isTTY);
export const stderrIsTTY = (): boolean => Boolean(process.stderr.isTTY);
export const useColor = (): boolean => stderrIsTTY() && !process.env.NO_COLOR && process.env.TERM !== "dumb";

/** Writes to stdout: results only. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes raw bytes to stdout (a container's terminal output). */
export function outBytes(data: Uint8Array): void {
  process.stdout.write(data);
}

/** Writes to stderr: everything that is not a result. */
export function err(text: string): void {
  process.stderr.write(text);
}
