import type { Persistence } from "./persistence.ts";
import type { TxnMeta } from "./types.ts";
import { WD } from "./wd.ts";

/**
 * Opens WDs over a Persistence: read-only views, and transactions that commit when the
 * callback returns and abort (then rethrow) when it throws.
 */
export class FS {
  constructor(readonly persistence: Persistence) {}

  /** A read-only WD over the newest state, or the state as of sequence `asOf`. */
  async view(asOf?: number, cwd: string = "/"): Promise<WD> {
    return new WD(await this.persistence.view(asOf), cwd);
  }

  /** Runs `fn` in one transaction; resolves to its result and the committed sequence. */
  async transaction<T>(meta: TxnMeta, fn: (wd: WD) => Promise<T>, cwd: string = "/"): Promise<{ result: T; seq: number }> {
    const txn = await this.persistence.begin(meta);
    let result: T;
    try {
      result = await fn(new WD(txn, cwd));
    } catch (e) {
      await txn.abort();
      throw e;
    }
    const seq = await txn.commit();
    return { result, seq };
  }
}
