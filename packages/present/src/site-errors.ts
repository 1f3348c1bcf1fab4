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
