// Builds the single `bin/pond` binary. Placeholder until the cmd package lands.
import { $ } from "bun";
await $`mkdir -p bin`;
await $`${process.execPath} build --compile --minify --bytecode packages/cmd/src/main.ts --outfile bin/pond`;
