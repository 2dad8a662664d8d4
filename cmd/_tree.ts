// The command tree. Groups load lazily so `pod images` never evaluates the pull path.
import type { PodCommand } from "./_args.ts";

type Loader = () => Promise<PodCommand>;
const from = <M>(load: () => Promise<M>, pick: (m: M) => PodCommand): Loader => () => load().then(pick);
const image = () => import("./image.ts");
const auth = () => import("./auth.ts");
const system = () => import("./system.ts");
const container = () => import("./run.ts");

export const commands: Record<string, Loader> = Object.assign(Object.create(null), {
  run: from(container, (m) => m.run),
  pull: from(image, (m) => m.pull),
  images: from(image, (m) => m.images),
  tag: from(image, (m) => m.tag),
  rmi: from(image, (m) => m.rmi),
  image: from(image, (m) => m.image),
  inspect: from(image, (m) => ({ ...m.imageInspectCmd, meta: { name: "inspect", description: "Display the configuration of an image" } })),
  login: from(auth, (m) => m.login),
  logout: from(auth, (m) => m.logout),
  unshare: from(system, (m) => m.unshare),
  system: from(system, (m) => m.system),
  version: from(system, (m) => m.version),
  "_storage-worker": from(system, (m) => m.storageWorker),
});
