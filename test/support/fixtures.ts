import { resolve } from "node:path";

/**
 * The shared interoperability fixtures (real files from other projects, with known
 * answers): $POND_FIXTURES, else `../shared/fixtures` beside the repository. The one
 * setting every test that reads them uses; `npm test` (scripts/test.cjs) leaves those
 * tests out, loudly, when the folder is missing, and fails in CI.
 */
export const FIXTURES = process.env.POND_FIXTURES ? resolve(process.env.POND_FIXTURES) : resolve(import.meta.dir, "../../../shared/fixtures");
