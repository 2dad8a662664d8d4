// `pod events`: the events kept that pass the filters and the time window,
// then (streaming) the new ones as they are written, until interrupted, the
// reader goes away, or --until passes.
import type { Paths } from "../config/index.ts";
import { PodError } from "../errors.ts";
import { eventsFile, followEvents, readEvents } from "./file.ts";
import { compileEventFilters, inWindow, parseEventWindowTime } from "./filters.ts";
import type { PodEvent } from "./event.ts";

export type EventQuery = { filters: string[]; since?: string; until?: string; stream: boolean };

/** Calls `print` for each matching event; print returns false when its reader is gone, which ends it. */
export async function watchEvents(paths: Paths, q: EventQuery, print: (e: PodEvent) => boolean): Promise<void> {
  if (paths.engine?.eventsBackend === "none")
    throw new PodError(`cannot read events with the "none" backend`, { hint: "with --events-backend none nothing is recorded; drop it (the file backend is the default)" });
  const match = compileEventFilters(q.filters);
  const now = Date.now();
  const since = q.since === undefined ? undefined : parseEventWindowTime("since", q.since, now);
  const until = q.until === undefined ? undefined : parseEventWindowTime("until", q.until, now);
  const show = (e: PodEvent) => !match(e) || !inWindow(e, since, until) || print(e);
  const file = eventsFile(paths);
  if (!q.stream) {
    for (const e of readEvents(file)) if (!show(e)) return;
    return;
  }
  // podman streams new events only, unless a --since or --until asks for the past
  const fromStart = since !== undefined || until !== undefined;
  await followEvents(file, { fromStart }, show, () => until === undefined || Date.now() < until);
}
