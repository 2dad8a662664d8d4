// The command tree. Groups load lazily so `pod images` never evaluates the pull path.
import type { PodCommand } from "./_args.ts";

type Loader = () => Promise<PodCommand>;
const from = <M>(load: () => Promise<M>, pick: (m: M) => PodCommand): Loader => () => load().then(pick);
const image = () => import("./image.ts");
const auth = () => import("./auth.ts");
const system = () => import("./system.ts");
const container = () => import("./run.ts");
const lifecycle = () => import("./container.ts");
const session = () => import("./session.ts");
const completion = () => import("./completion.ts");
const doctor = () => import("./doctor.ts");
const files = () => import("./files.ts");
const volume = () => import("./volume.ts");
const secret = () => import("./secret.ts");
const monitor = () => import("./monitor.ts");
const network = () => import("./network.ts");
const events = () => import("./events.ts");
const health = () => import("./healthcheck.ts");
const generate = () => import("./generate.ts");
const stats = () => import("./stats.ts");
const archive = () => import("./archive.ts");

export const commands: Record<string, Loader> = Object.assign(Object.create(null), {
  run: from(container, (m) => m.run),
  create: from(container, (m) => m.create),
  start: from(lifecycle, (m) => m.start),
  stop: from(lifecycle, (m) => m.stop),
  kill: from(lifecycle, (m) => m.kill),
  restart: from(lifecycle, (m) => m.restart),
  rm: from(lifecycle, (m) => m.rm),
  wait: from(lifecycle, (m) => m.wait),
  pause: from(lifecycle, (m) => m.pause),
  unpause: from(lifecycle, (m) => m.unpause),
  rename: from(lifecycle, (m) => m.rename),
  ps: from(lifecycle, (m) => m.ps),
  stats: from(stats, (m) => m.stats),
  update: from(stats, (m) => m.update),
  logs: from(session, (m) => m.logs),
  attach: from(session, (m) => m.attach),
  exec: from(session, (m) => m.exec),
  container: from(session, (m) => m.container),
  port: from(files, (m) => m.port),
  top: from(files, (m) => m.top),
  diff: from(files, (m) => m.diff),
  export: from(files, (m) => m.exportCmd),
  cp: from(files, (m) => m.cp),
  volume: from(volume, (m) => m.volume),
  secret: from(secret, (m) => m.secret),
  network: from(network, (m) => m.network),
  "_netns-keeper": from(network, (m) => m.keeper),
  "_netns-proxy": from(network, (m) => m.proxy),
  "_monitor": from(monitor, (m) => m.monitor),
  pull: from(image, (m) => m.pull),
  images: from(image, (m) => m.images),
  tag: from(image, (m) => m.tag),
  untag: from(image, (m) => m.untag),
  rmi: from(image, (m) => m.rmi),
  history: from(image, (m) => m.history),
  save: from(archive, (m) => m.save),
  load: from(archive, (m) => m.load),
  import: from(archive, (m) => m.importCmd),
  commit: from(() => import("./commit.ts"), (m) => m.commit),
  build: from(() => import("./build.ts"), (m) => m.build),
  push: from(() => import("./push.ts"), (m) => m.push),
  manifest: from(() => import("./manifest.ts"), (m) => m.manifest),
  image: from(image, (m) => m.image),
  inspect: from(session, (m) => m.inspect),
  login: from(auth, (m) => m.login),
  logout: from(auth, (m) => m.logout),
  unshare: from(system, (m) => m.unshare),
  system: from(system, (m) => m.system),
  version: from(system, (m) => m.version),
  info: from(system, (m) => m.info),
  events: from(events, (m) => m.events),
  healthcheck: from(health, (m) => m.healthcheck),
  generate: from(generate, (m) => m.generate),
  doctor: from(doctor, (m) => m.doctor),
  completion: from(completion, (m) => m.completion),
  "_storage-worker": from(system, (m) => m.storageWorker),
  __complete: from(completion, (m) => m.complete),
  __completeNoDesc: from(completion, (m) => m.completeNoDesc),
});
