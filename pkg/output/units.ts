// Sizes and durations as podman prints them (docker/go-units): decimal units,
// three significant digits ("5.87 MB"), and "2 weeks ago" style ages.

const sizeUnits = ["B", "kB", "MB", "GB", "TB", "PB"];

export function humanSize(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < sizeUnits.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${sizeUnits[i]}`;
}

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export function timeAgo(date: Date | string | number, now = Date.now()): string {
  const t = new Date(date).getTime();
  return `${humanDuration(Math.max(0, now - t))} ago`;
}
