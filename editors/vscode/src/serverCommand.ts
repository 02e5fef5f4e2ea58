// How the language server is started, from the extension's settings.
// Free of the `vscode` module so that it can be unit-tested with plain node.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ServerSettings {
  command: string;
  args: string[];
  pythonPath: string;
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

/** Expands `~` and `${workspaceFolder}` in a configured path. */
export function expandPath(value: string, workspaceFolder: string | undefined): string {
  let result = value.trim();
  if (workspaceFolder) {
    result = result.split("${workspaceFolder}").join(workspaceFolder);
  }
  if (result === "~" || result.startsWith("~/")) {
    result = path.join(os.homedir(), result.slice(1));
  }
  return result;
}

/**
 * The command line: an explicit command wins; else the configured interpreter runs
 * `-m profreg`; else `profreg` from PATH.
 */
export function serverLaunch(settings: ServerSettings, workspaceFolder?: string): ServerLaunch {
  const args = settings.args.map((arg) => expandPath(arg, workspaceFolder));
  if (settings.command.trim()) {
    return { command: expandPath(settings.command, workspaceFolder), args };
  }
  if (settings.pythonPath.trim()) {
    return { command: expandPath(settings.pythonPath, workspaceFolder), args: ["-m", "profreg", ...args] };
  }
  return { command: "profreg", args };
}

/** The executable a command names (a path, or a name looked up on PATH), or undefined. */
export function findExecutable(command: string, envPath = process.env.PATH ?? ""): string | undefined {
  const isFile = (candidate: string): boolean => {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes("/") || command.includes(path.sep)) {
    return isFile(command) ? command : undefined;
  }
  const extensions = process.platform === "win32" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of envPath.split(path.delimiter)) {
    for (const ext of extensions) {
      const candidate = path.join(dir || ".", command + ext);
      if (isFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}
