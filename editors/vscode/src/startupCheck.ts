// Why the language server cannot start, said once and in words a user can act on.
// Before the client starts, the configured command is asked for `--version`: a missing
// program, an interpreter without profreg or a broken install fails there in a second,
// with its own error text, instead of as a crash loop of the language client.
// Free of the `vscode` module so that it can be unit-tested with plain node.

import { spawnSync } from "child_process";
import { findExecutable, ServerLaunch, ServerSettings } from "./serverCommand";

export type ProbeResult =
  | { ok: true; version: string }
  | { ok: false; cause: string; setting: string; message: string };

/** The setting that chose the command (the one a user changes to fix a failing start). */
export function responsibleSetting(settings: ServerSettings): string {
  if (settings.command.trim()) {
    return "profreg.server.command";
  }
  return settings.pythonPath.trim() ? "profreg.server.pythonPath" : "profreg.server.command";
}

/** `profreg lsp` -> `profreg --version`, `PY -m profreg lsp` -> `PY -m profreg --version`; undefined
 * for a custom command line without an `lsp` argument (nothing safe to ask it). */
export function versionCommand(launch: ServerLaunch): ServerLaunch | undefined {
  const at = launch.args.lastIndexOf("lsp");
  if (at < 0) {
    return undefined;
  }
  return { command: launch.command, args: [...launch.args.slice(0, at), "--version"] };
}

/** The line of a failed run's output that says why (a Python error's last line, usually). */
export function causeFromOutput(output: string): string {
  const lines = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const error = [...lines].reverse().find((line) => /(Error|error:|Exception)\b/.test(line));
  return error ?? lines[lines.length - 1] ?? "it exited without saying why";
}

export function failureMessage(cause: string, setting: string, settings: ServerSettings): string {
  const fix =
    setting === "profreg.server.pythonPath"
      ? `Set ${setting} to a Python interpreter that has profreg installed (pip install profreg), or clear it to use profreg from PATH.`
      : settings.command.trim()
        ? `Set ${setting} to the full path of the profreg program (or clear it and set profreg.server.pythonPath).`
        : `Install profreg (pip install profreg), or set ${setting} to the profreg program or profreg.server.pythonPath to a Python that has it.`;
  return `profreg: the language server cannot start: ${cause}. ${fix}`;
}

/** Runs the server command's `--version` (a few seconds at most). */
export function probeServer(
  launch: ServerLaunch,
  settings: ServerSettings,
  options: { cwd?: string; timeoutMs?: number; envPath?: string } = {},
): ProbeResult {
  const setting = responsibleSetting(settings);
  const fail = (cause: string): ProbeResult => ({ ok: false, cause, setting, message: failureMessage(cause, setting, settings) });
  if (!findExecutable(launch.command, options.envPath)) {
    return fail(`cannot find the program "${launch.command}"`);
  }
  const probe = versionCommand(launch);
  if (!probe) {
    return { ok: true, version: "" };
  }
  const run = spawnSync(probe.command, probe.args, {
    cwd: options.cwd,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 20000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (run.error) {
    return fail(`running "${probe.command}" failed (${run.error.message})`);
  }
  if (run.status !== 0) {
    const said = causeFromOutput(`${run.stdout ?? ""}\n${run.stderr ?? ""}`);
    return fail(`"${[probe.command, ...probe.args].join(" ")}" says "${said}"`);
  }
  return { ok: true, version: (run.stdout ?? "").trim() };
}
