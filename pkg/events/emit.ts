// The event shapes the use cases emit, so each call site is one line.
import type { Paths } from "../config/index.ts";
import { emitEvent } from "./file.ts";

/** What a container event names: a container record has these fields. */
export type EventContainer = { id: string; name: string; image: string; labels?: Record<string, string> };

/** A container event (podman's newContainerEvent): its labels are the attributes; died carries the exit code. */
export function containerEvent(paths: Paths, c: EventContainer, status: string, exitCode?: number): Promise<void> {
  return emitEvent(paths, { ID: c.id, Image: c.image, Name: c.name, Status: status, Type: "container", ContainerExitCode: exitCode, Attributes: c.labels });
}

/** An image event: its ID and the name it concerns (the pulled, tagged or removed reference). */
export function imageEvent(paths: Paths, id: string, name: string, status: string): Promise<void> {
  return emitEvent(paths, { ID: id, Name: name, Status: status, Type: "image" });
}

export function volumeEvent(paths: Paths, name: string, status: string): Promise<void> {
  return emitEvent(paths, { Name: name, Status: status, Type: "volume" });
}

/** create/remove name the network; connect/disconnect the container (ID) and the network. */
export function networkEvent(paths: Paths, o: { id: string; network: string; status: string; driver?: string }): Promise<void> {
  return emitEvent(paths, { ID: o.id, Network: o.network, Status: o.status, Type: "network", Attributes: o.driver ? { driver: o.driver } : undefined });
}
