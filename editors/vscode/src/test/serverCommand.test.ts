import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { expandPath, findExecutable, serverLaunch } from "../serverCommand";

test("an explicit command wins over the interpreter", () => {
  assert.deepEqual(serverLaunch({ command: "/opt/profreg", args: ["lsp"], pythonPath: "/usr/bin/python3" }), {
    command: "/opt/profreg",
    args: ["lsp"],
  });
});

test("a configured interpreter runs -m profreg", () => {
  assert.deepEqual(serverLaunch({ command: "", args: ["lsp"], pythonPath: "${workspaceFolder}/.venv/bin/python" }, "/w"), {
    command: "/w/.venv/bin/python",
    args: ["-m", "profreg", "lsp"],
  });
});

test("the default is profreg from PATH", () => {
  assert.deepEqual(serverLaunch({ command: " ", args: ["lsp"], pythonPath: "" }), { command: "profreg", args: ["lsp"] });
});

test("~ expands to the home directory", () => {
  assert.equal(expandPath("~/bin/profreg", undefined), path.join(os.homedir(), "bin/profreg"));
});

test("executables are found on PATH and by path", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "profreg-path-"));
  const exe = path.join(dir, "profreg");
  fs.writeFileSync(exe, "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "notexec"), "", { mode: 0o644 });
  assert.equal(findExecutable("profreg", `/nonexistent${path.delimiter}${dir}`), exe);
  assert.equal(findExecutable(exe, ""), exe);
  assert.equal(findExecutable("notexec", dir), undefined);
  assert.equal(findExecutable("profreg", "/nonexistent"), undefined);
});
