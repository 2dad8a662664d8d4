export const stdoutIsTTY = (): boolean => Boolean(process.stdout.isTTY);
export const stderrIsTTY = (): boolean => Boolean(process.stderr.isTTY);
export const useColor = (): boolean => stderrIsTTY() && !process.env.NO_COLOR && process.env.TERM !== "dumb";

/** Writes to stdout: results only. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes to stderr: everything that is not a result. */
export function err(text: string): void {
  process.stderr.write(text);
}
