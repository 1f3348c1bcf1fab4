import { expect, test } from "bun:test";
import { BadMaintenanceOptionError } from "@pond/steward";
import { NotFoundError, TypeChangeError, WrongTypeError } from "@pond/tinyfs";
import { NotQueryableError } from "@pond/tlogfs";
import {
  CatNotQueryableError,
  CopyFolderOntoFileError,
  DiffPathNotFoundError,
  DiffTypeChangeError,
  MaintainOptionError,
  MoveDestinationError,
} from "./command-errors.ts";

// Each subclass keeps its parent's class, code and kind, and words its own message and hint.
test.each([
  [new DiffPathNotFoundError("/a"), NotFoundError, "not_found", "user", '"/a" does not exist at either transaction', "pond list --as-of"],
  [
    new DiffTypeChangeError("/a", "file:table", "directory"),
    TypeChangeError,
    "type_change",
    "user",
    '"/a" is a file:table at the first transaction and a directory at the second',
    "pond cat --as-of",
  ],
  [
    new MoveDestinationError("mv of 2 sources needs a directory", "/d", undefined),
    NotFoundError,
    "not_found",
    "user",
    'mv of 2 sources needs a directory; "/d" does not exist',
    "pond mkdir /d",
  ],
  [new MoveDestinationError("x", "/d", "file:data"), NotFoundError, "not_found", "user", 'x; "/d" is a file:data', "pond mkdir /d"],
  [
    new CopyFolderOntoFileError("host:///src", "/f"),
    WrongTypeError,
    "wrong_type",
    "user",
    'Cannot copy folder "host:///src" onto file "/f"',
    "into a directory",
  ],
  [
    new CatNotQueryableError("/d", "directory"),
    NotQueryableError,
    "not_queryable",
    "user",
    '"/d" is a directory; --sql needs a table or series',
    "host+table:",
  ],
  [
    new MaintainOptionError("pond maintain cleanup takes no PATTERN", "PATTERN", "/x", "e.g. merge"),
    BadMaintenanceOptionError,
    "bad_option",
    "usage",
    "pond maintain cleanup takes no PATTERN",
    "e.g. merge",
  ],
] as const)("%#: %p", (e, parent, code, kind, message, hint) => {
  expect(e).toBeInstanceOf(parent);
  expect([e.code, e.kind, e.message]).toEqual([code, kind, message]);
  expect(e.hint).toContain(hint);
});
