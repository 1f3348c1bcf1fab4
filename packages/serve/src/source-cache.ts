/**
 * Resolved sources (a pond path or glob → its payload files, kept to a time range) cached
 * per view: a view is a fixed transaction, so the answer for a path and range cannot change
 * while the server keeps that view (pond-state.ts keeps one view per newest transaction; a
 * new commit gives a new view, and the old view's entries go with it). Resolving a series of
 * 1,000 versions takes ~8 ms; the 1% range query in bench/serve-query.bench.ts takes ~20.
 * `as_of` views are read afresh per request and are not cached here.
 */
import type { WD } from "@pond/tinyfs";
import { resolveSources, type ResolvedSource, type SourceResolver, type TimeRange, type TLogView } from "@pond/tlogfs";

/** Entries kept per view; the oldest goes first. */
const PER_VIEW = 256;

export function cachingResolver(cacheable: (view: TLogView) => boolean): SourceResolver {
  const byView = new WeakMap<TLogView, Map<string, Promise<ResolvedSource[]>>>();
  return (view: TLogView, wd: WD, pattern: string, opts: { range?: TimeRange; summary?: boolean }) => {
    if (!cacheable(view)) return resolveSources(view, wd, pattern, opts);
    let m = byView.get(view);
    if (!m) byView.set(view, (m = new Map()));
    const key = `${opts.range?.start ?? ""}\u0000${opts.range?.end ?? ""}\u0000${opts.summary === true}\u0000${pattern}`;
    let hit = m.get(key);
    if (!hit) {
      hit = resolveSources(view, wd, pattern, opts);
      m.set(key, hit);
      if (m.size > PER_VIEW) m.delete(m.keys().next().value!);
      // A failure (a path that is not there) is not kept: the next request asks again.
      hit.catch(() => m.delete(key));
    }
    return hit;
  };
}
