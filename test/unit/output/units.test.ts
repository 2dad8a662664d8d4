import { expect, test } from "bun:test";
import { humanSize, humanDuration, timeAgo } from "../../../pkg/output/units.ts";

test("humanSize: decimal units, three significant digits like podman", () => {
  expect(humanSize(0)).toBe("0 B");
  expect(humanSize(999)).toBe("999 B");
  expect(humanSize(5_870_000)).toBe("5.87 MB");
  expect(humanSize(8_089_600)).toBe("8.09 MB");
  expect(humanSize(1_234_567_890)).toBe("1.23 GB");
  expect(humanSize(12_500)).toBe("12.5 kB");
});
test("humanDuration follows docker/go-units wording", () => {
  expect(humanDuration(500)).toBe("Less than a second");
  expect(humanDuration(3000)).toBe("3 seconds");
  expect(humanDuration(90_000)).toBe("About a minute");
  expect(humanDuration(3600_000)).toBe("About an hour");
  expect(humanDuration(5 * 3600_000)).toBe("5 hours");
  expect(humanDuration(3 * 86400_000)).toBe("3 days");
  expect(humanDuration(20 * 86400_000)).toBe("2 weeks");
  expect(humanDuration(800 * 86400_000)).toBe("2 years");
});
test("timeAgo", () => {
  expect(timeAgo(new Date(1000), 61_000 + 1000)).toBe("About a minute ago");
});
