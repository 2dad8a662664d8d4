// pod's events (podman's `file` backend): writing one event per line to
// <runroot>/events/events.log with rotation, reading and following it, and
// how `pod events` filters and prints them. The use cases in pkg/ emit;
// nothing here prints, and nothing here knows containers or images.
export { EVENT_TYPES, eventJson, goTimeString, parseEventLine, rfc3339Nano, type EventInput, type EventType, type PodEvent } from "./event.ts";
export { MAX_BYTES, appendEvent, emitEvent, eventsFile, followEvents, readEvents } from "./file.ts";
export { EVENT_FILTER_KEYS, compileEventFilters, inWindow, parseEventWindowTime } from "./filters.ts";
export { humanLine, templateView } from "./format.ts";
export { containerEvent, imageEvent, networkEvent, volumeEvent, type EventContainer } from "./emit.ts";
export { watchEvents, type EventQuery } from "./query.ts";
