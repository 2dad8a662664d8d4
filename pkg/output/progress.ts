// Per-item progress for pulls. On a terminal: one bar per item, redrawn in
// place at most every 100 ms. Otherwise: one plain line per item when it is
// done, as podman prints them ("Copying blob sha256:… done").
import { err, stderrIsTTY } from "./stream.ts";
import { humanSize } from "./units.ts";

type Item = { label: string; total: number; done: number; state: "wait" | "run" | "done" | "skip" };

export class ProgressBoard {
  private items: Item[] = [];
  private drawn = 0;
  private timer?: ReturnType<typeof setInterval>;
  private readonly tty: boolean;

  constructor(private readonly quiet: boolean) {
    this.tty = !quiet && stderrIsTTY();
  }

  line(text: string): void {
    if (this.quiet) return;
    this.clear();
    err(text + "\n");
    this.draw();
  }

  add(label: string, total: number): number {
    this.items.push({ label, total, done: 0, state: "wait" });
    if (this.tty && !this.timer) this.timer = setInterval(() => this.redraw(), 100);
    return this.items.length - 1;
  }

  update(i: number, done: number): void {
    const it = this.items[i]!;
    it.done = done;
    it.state = "run";
  }

  finish(i: number, how: "done" | "skip" = "done"): void {
    const it = this.items[i]!;
    it.state = how;
    it.done = it.total;
    if (!this.tty && !this.quiet) err(`${it.label} ${how === "skip" ? "skipped: already exists" : "done"}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.redraw();
    this.drawn = 0;
  }

  private clear(): void {
    if (!this.tty || !this.drawn) return;
    err(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.tty || !this.items.length) return;
    const cols = Math.max(40, process.stderr.columns ?? 80);
    const lines = this.items.map((it) => render(it, cols));
    err(lines.join("\n") + "\n");
    this.drawn = lines.length;
  }

  private redraw(): void {
    this.clear();
    this.draw();
  }
}

function render(it: Item, cols: number): string {
  const label = it.label.length > 36 ? it.label.slice(0, 36) : it.label.padEnd(36);
  if (it.state === "done") return `${label} done`;
  if (it.state === "skip") return `${label} skipped: already exists`;
  const size = `${humanSize(it.done)} / ${humanSize(it.total)}`;
  const width = Math.max(10, Math.min(30, cols - label.length - size.length - 6));
  const frac = it.total ? Math.min(1, it.done / it.total) : 0;
  const fill = Math.round(frac * width);
  return `${label} [${"=".repeat(fill)}${fill < width ? ">" : ""}${" ".repeat(Math.max(0, width - fill - 1))}] ${size}`;
}
