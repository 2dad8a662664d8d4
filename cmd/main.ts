// pod's entry point: global flags, the lazy command tree, and the one place
// that turns errors into a message, a hint and an exit code.
declare const POD_VERSION: string;
const version = typeof POD_VERSION === "string" ? POD_VERSION : "0.0.0-dev";

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`pod version ${version}\n`);
  process.exit(0);
}

const { dispatch } = await import("./_dispatch.ts");
process.exitCode = await dispatch(argv, version);
export {};
