import { describe, expect, test } from "bun:test";
import { PondError } from "@pond/diagnostics";
import {
  AlreadyExistsError,
  IntegrityError,
  InvalidPathError,
  NotFoundError,
  ReadOnlyError,
  SymlinkLoopError,
  TransactionClosedError,
  TransactionConflictError,
  TypeChangeError,
  WrongTypeError,
} from "./errors.ts";

describe("tinyfs errors", () => {
  const cases: Array<[PondError, string, string, string]> = [
    // [error, code, kind, text the message must contain]
    [new NotFoundError('"/a"', "try pond list"), "not_found", "user", '"/a" does not exist'],
    [new AlreadyExistsError("/a", "use -p"), "already_exists", "user", '"/a" already exists'],
    [new InvalidPathError("/..", "escapes the pond"), "invalid_path", "user", '"/.."'],
    [new WrongTypeError("/d", "directory", "file:data", "write inside"), "wrong_type", "user", '"/d" is a directory'],
    [new TypeChangeError("/t", "file:data", "file:table"), "type_change", "user", '"/t" is a file:data'],
    [new IntegrityError("node x", "bad hash"), "integrity", "integrity", "node x"],
    [new ReadOnlyError("/a", "create directory"), "read_only", "bug", '"/a"'],
    [new SymlinkLoopError("/l", 40), "symlink_loop", "user", '"/l"'],
    [new TransactionConflictError(1, 2), "commit_conflict", "busy", "sequence 2"],
    [new TransactionClosedError("commit"), "transaction_closed", "bug", "commit"],
  ];
  for (const [e, code, kind, text] of cases) {
    test(`${e.constructor.name} has code ${code}, kind ${kind}, a hint and a message naming the thing`, () => {
      expect(e).toBeInstanceOf(PondError);
      expect([e.code, e.kind]).toEqual([code, kind]);
      expect(e.message).toContain(text);
      expect(e.hint).toBeTruthy();
    });
  }
});
