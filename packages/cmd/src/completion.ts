/**
 * Shell completion. The scripts `pond completion bash|zsh|fish` print are thin: on Tab
 * they call `pond __complete WORD...` with the words after `pond` (the last is the word
 * being completed, possibly empty) and offer what it prints, one candidate a line. The
 * answer comes from the same declarations the parser reads, so completion cannot drift
 * from the commands. A lone line `__files__` asks the shell for its own file completion
 * (host paths, `--pond DIR`).
 */
import { GLOBAL_OPTIONS, flagName, type OptionDecl } from "./args.ts";
import { COMMANDS, findCommand } from "./commands.ts";

export const FILES = "__files__";

function flags(options: { readonly [key: string]: OptionDecl }): string[] {
  return Object.keys(options).map((k) => "--" + flagName(k));
}

/** The candidates for the last of `words` (the words after `pond`). */
export function complete(words: readonly string[]): string[] {
  const current = words[words.length - 1] ?? "";
  const before = words.slice(0, -1);
  const globalValue = (w: string | undefined) => w === "--pond";
  // The command is the first word that is neither an option nor the value of --pond.
  let at = 0;
  while (at < before.length && before[at]!.startsWith("-")) at += globalValue(before[at]) ? 2 : 1;
  const decl = at < before.length ? findCommand(before[at]!) : undefined;
  if (at >= before.length) {
    if (globalValue(before[before.length - 1])) return [FILES];
    const names = COMMANDS.map((c) => c.name);
    const all = current.startsWith("-") ? [...flags(GLOBAL_OPTIONS), "--version"] : names;
    return all.filter((c) => c.startsWith(current));
  }
  if (!decl) return [];
  const options = { ...decl.options, ...GLOBAL_OPTIONS };
  const rest = before.slice(at + 1);
  const prev = rest[rest.length - 1];
  if (prev?.startsWith("--") && !prev.includes("=") && !rest.slice(0, -1).includes("--")) {
    const key = Object.keys(options).find((k) => "--" + flagName(k) === prev);
    const o = key === undefined ? undefined : options[key];
    if (o && o.type !== "boolean") return o.choices ? o.choices.filter((c) => c.startsWith(current)) : [FILES];
  }
  if (current.startsWith("-") && !rest.includes("--")) {
    const eq = current.indexOf("=");
    if (eq !== -1) {
      const key = Object.keys(options).find((k) => "--" + flagName(k) === current.slice(0, eq));
      const choices = key === undefined ? undefined : options[key]!.choices;
      return (choices ?? []).map((c) => `${current.slice(0, eq)}=${c}`).filter((c) => c.startsWith(current));
    }
    return flags(options).filter((f) => f.startsWith(current));
  }
  // Which positional slot the current word fills: count the positionals before it.
  let n = 0;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === "--") {
      n += rest.length - i - 1;
      break;
    }
    if (w.startsWith("-") && w !== "-") {
      const key = Object.keys(options).find((k) => "--" + flagName(k) === w);
      if (key !== undefined && options[key]!.type !== "boolean") i++;
      continue;
    }
    n++;
  }
  const slots = decl.positionals ?? [];
  const slot = slots[n] ?? slots.find((s) => s.variadic);
  if (slot?.choices) return slot.choices.filter((c) => c.startsWith(current));
  return slot ? [FILES] : [];
}

/** The completion script for `shell`. */
export function completionScript(shell: "bash" | "zsh" | "fish"): string {
  if (shell === "bash") {
    return `# pond completion for bash: source <(pond completion bash)
_pond_complete() {
  local IFS=$'\\n' cur="\${COMP_WORDS[COMP_CWORD]}"
  local out
  out=( $(pond __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
  if [[ "\${out[0]}" == "${FILES}" ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
    compopt -o filenames 2>/dev/null
  else
    COMPREPLY=( "\${out[@]}" )
  fi
}
complete -F _pond_complete pond
`;
  }
  if (shell === "zsh") {
    return `#compdef pond
# pond completion for zsh: source <(pond completion zsh), or save as _pond on your $fpath
_pond() {
  local -a out
  out=( "\${(@f)$(pond __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}" )
  if [[ "\${out[1]}" == "${FILES}" ]]; then
    _files
  else
    compadd -- "\${out[@]}"
  fi
}
if [[ "$funcstack[1]" == "_pond" ]]; then _pond "$@"; else compdef _pond pond; fi
`;
  }
  return `# pond completion for fish: pond completion fish | source
function __pond_complete
  set -l words (commandline -opc) (commandline -ct)
  set -l out (pond __complete $words[2..-1] 2>/dev/null)
  if test "$out[1]" = "${FILES}"
    __fish_complete_path (commandline -ct)
  else
    printf '%s\\n' $out
  end
end
complete -c pond -f -a '(__pond_complete)'
`;
}
