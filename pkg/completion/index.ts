// Shell completion: the command tree as data (spec.ts), the scripts generated
// from it for bash, zsh and fish (scripts.ts), and the answers of the hidden
// `pod __complete` (complete.ts, cobra's protocol) from pod's own state
// (sources.ts). It reads the store and container records; it never writes,
// never imports citty (cmd/ hands the definitions in) and never prints.
export {
  commandSpec,
  flagSpecs,
  flagValue,
  addHelp,
  isVisible,
  positionalValue,
  positionalValues,
  LOG_LEVELS,
  SIGNALS,
  type ArgLike,
  type CommandLike,
  type CommandSpec,
  type FlagSpec,
  type Item,
  type Source,
  type ValueKind,
} from "./spec.ts";
export { walkLine, type Lookup, type Target, type Walked } from "./walk.ts";
export { completeLine, renderAnswer, Directive, type Answer, type CompleteContext } from "./complete.ts";
export { shortImageName } from "./sources.ts";
export { renderScript, kindGroups, HEADER, SHELLS, type Shell } from "./scripts.ts";
