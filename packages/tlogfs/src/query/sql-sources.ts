/**
 * Finds the pond paths a query names: single-quoted strings that start with `/` right
 * after FROM or JOIN (`FROM '/sensors/*.series' a JOIN '/sites.table' b`). Returns the
 * SQL with each replaced by a view name, and the paths in order of first use.
 */
export function extractPondSources(sql: string): { sql: string; sources: { path: string; view: string }[] } {
  const sources: { path: string; view: string }[] = [];
  const byPath = new Map<string, string>();
  let out = "";
  let i = 0;
  const re = /\b(FROM|JOIN)(\s+)'((?:[^']|'')*)'/giy;
  while (i < sql.length) {
    const ch = sql[i]!;
    // Skip other string literals, quoted identifiers and comments untouched.
    if (ch === "'" || ch === '"') {
      const end = closing(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    re.lastIndex = i;
    const m = /[A-Za-z]/.test(ch) && (i === 0 || !/\w/.test(sql[i - 1]!)) ? re.exec(sql) : null;
    if (m && m[3]!.startsWith("/")) {
      const path = m[3]!.replace(/''/g, "'");
      let view = byPath.get(path);
      if (!view) {
        view = `__pond_source_${sources.length}`;
        byPath.set(path, view);
        sources.push({ path, view });
      }
      out += `${m[1]}${m[2]}"${view}"`;
      i += m[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return { sql: out, sources };
}

function closing(sql: string, start: number, q: string): number {
  let j = start + 1;
  while (j < sql.length) {
    if (sql[j] === q) {
      if (sql[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

/**
 * The query as one statement that can be wrapped in `SELECT … FROM (<sql>\n) q`: trailing
 * whitespace, `-- line` and block comments and semicolons are cut (a comment or `;` left
 * inside the parentheses would swallow or end the wrapper). Leading comments are kept, and
 * so is a `;` between two statements: DuckDB then refuses the text as several statements.
 */
export function statementText(sql: string): string {
  let end = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      i = closing(sql, i, ch);
      end = i;
    } else if (ch === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl;
    } else if (ch === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? sql.length : close + 2;
    } else {
      if (ch !== ";" && !/\s/.test(ch)) end = i + 1;
      i++;
    }
  }
  return sql.slice(0, end);
}

/**
 * DuckDB's message about a query `extractPondSources` rewrote, with each view name (quoted or
 * not) put back as the path the user wrote (`labels`: view → path), and the `^` under the
 * `LINE n:` text moved by what the replacements before it added, so it still points at the spot.
 */
export function relabelSources(message: string, labels: ReadonlyMap<string, string>): string {
  if (labels.size === 0) return message;
  const names = [...labels.keys()].map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`"(${names.join("|")})"|\\b(${names.join("|")})\\b`, "g");
  const lines = message.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const shifts: { at: number; by: number }[] = [];
    lines[i] = lines[i]!.replace(re, (whole: string, quoted: string | undefined, bare: string | undefined, at: number) => {
      const path = labels.get((quoted ?? bare)!)!;
      const put = quoted === undefined ? path : `'${path.replace(/'/g, "''")}'`;
      shifts.push({ at, by: put.length - whole.length });
      return put;
    });
    const caret = /^( *)\^$/.exec(lines[i + 1] ?? "");
    if (shifts.length > 0 && caret && lines[i]!.startsWith("LINE ")) {
      const col = caret[1]!.length;
      const by = shifts.filter((s) => s.at < col).reduce((n, s) => n + s.by, 0);
      lines[i + 1] = `${" ".repeat(Math.max(0, col + by))}^`;
      i++;
    }
  }
  return lines.join("\n");
}
