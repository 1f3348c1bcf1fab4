/**
 * present's errors: exports, reductions, the site and charts. Each condition is a class
 * with a stable `code`; the CLI maps its kind to the exit code.
 */
import { PondError } from "@pond/diagnostics";

/**
 * `/etc/site.yaml` (or a reduction config the site reads) that cannot be used: not YAML,
 * an unknown key, a wrong type. Names the file, the key and what is allowed.
 */
export class SiteConfigError extends PondError {
  constructor(file: string, key: string | undefined, problem: string, hint?: string) {
    super("bad_site_config", `Site config "${file}"${key ? `, key "${key}"` : ""}: ${problem}`, {
      data: { file, key },
      hint: hint ?? "Fix the YAML and copy it again (`pond copy host:///path/site.yaml /etc/site.yaml`); the README's Site section lists every key.",
    });
  }
}

/** `pond site build` or `pond chart` was asked for something the pond cannot give. */
export class SiteInputError extends PondError {
  constructor(code: string, message: string, hint: string, data: Record<string, unknown> = {}) {
    super(code, message, { data, hint });
  }
}

/**
 * A reduction config that cannot be used; names the file and the key. `subject` words a
 * problem found while reducing, against a source, rather than while parsing.
 */
export class ReduceConfigError extends PondError {
  constructor(file: string, key: string | undefined, problem: string, hint?: string, subject = "Reduction config") {
    super("bad_reduce_config", `${subject} "${file}"${key ? `, key "${key}"` : ""}: ${problem}`, {
      data: { file, key },
      hint: hint ?? "Fix the YAML and copy it again; `pond reduce --help` shows an example.",
    });
  }
}

/** Two sources of one export that would land under the same name= folder. */
export class ExportNameClashError extends PondError {
  constructor(name: string, first: string, second: string) {
    super("export_name_clash", `"${first}" and "${second}" would both export to ${name}`, {
      data: { paths: [first, second] },
      hint: "Export them in two runs into different folders, or narrow the pattern.",
    });
  }
}

/** The `.pond-export.json` manifest at an export's S3 prefix cannot be read as one. */
export class ExportManifestError extends PondError {
  constructor(where: string, problem: string) {
    super("export_manifest_invalid", `Cannot use the export manifest ${where}: ${problem}`, {
      data: { where },
      hint: "Delete that object (then the objects the earlier export wrote are no longer replaced; delete them by hand if needed).",
    });
  }
}

/** `--partition` asked of a source with no timestamp column. */
export class ExportNoTimeColumnError extends PondError {
  constructor(path: string, partition: string) {
    super("export_no_time_column", `"${path}" has no timestamp column to partition by ${partition}`, {
      data: { path },
      hint: "Export it without --partition, or store it as a series.",
    });
  }
}

/** A reduction's in: matched a table. */
export class ReduceNotSeriesError extends PondError {
  constructor(file: string, path: string) {
    super("reduce_not_series", `Reduction "${file}": "${path}" is a table; in: must name series`, {
      data: { file, path },
      hint: "Narrow in: to series (*.series).",
    });
  }
}

/** A reduction's in: matched another reduction's output. */
export class ReduceOfReductionError extends PondError {
  constructor(file: string, path: string) {
    super("reduce_of_reduction", `Reduction "${file}": "${path}" is itself a reduction's output; in: must name raw series`, {
      data: { file, path },
      hint: "Narrow in: so that it does not match the out: folder of any reduction; reduce the raw series to coarser resolutions instead.",
    });
  }
}

/** Two sources of one reduction that would reduce into the same folder. */
export class ReduceNameClashError extends PondError {
  constructor(file: string, first: string, second: string, into: string) {
    super("reduce_name_clash", `Reduction "${file}": "${first}" and "${second}" would both reduce into ${into}`, {
      data: { file, paths: [first, second] },
      hint: "Split them into two configs with different out: folders, or narrow in:.",
    });
  }
}

/** A reduction's source that records no timestamp column. */
export class ReduceNoTimeColumnError extends PondError {
  constructor(file: string, path: string) {
    super("reduce_no_time_column", `Reduction "${file}": "${path}" records no timestamp column`, {
      data: { file, path },
      hint: "Store it with pond copy host+series: (the time column is detected or named with --timestamp-column).",
    });
  }
}

/** A reduction's output path that holds something pond reduce did not write. */
export class ReduceOutputExistsError extends PondError {
  constructor(file: string, path: string, what: string) {
    super("reduce_output_exists", `Reduction "${file}": "${path}" ${what}`, {
      data: { file, path },
      hint: "Move or remove it, or choose another out: folder.",
    });
  }
}

/** A reduction's output path written by another reduction config. */
export class ReduceOutputOwnedError extends PondError {
  constructor(file: string, path: string, owner: string) {
    super("reduce_output_owned", `Reduction "${file}": "${path}" is written by another config, "${owner}"`, {
      data: { file, path, owner },
      hint: "Give the two configs different out: folders (or, if the config was renamed, remove the old outputs with pond rm -r).",
    });
  }
}

/** A reduction's source with no column to aggregate. */
export class ReduceNoColumnsError extends PondError {
  constructor(file: string, path: string, problem: string, hint: string, data: Record<string, unknown> = {}) {
    super("reduce_no_columns", `Reduction "${file}": "${path}" ${problem}`, { data: { file, path, ...data }, hint });
  }
}
