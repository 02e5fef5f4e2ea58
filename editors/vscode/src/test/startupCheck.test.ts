import assert from "node:assert/strict";
import { test } from "node:test";
import { causeFromOutput, probeServer, responsibleSetting, versionCommand } from "../startupCheck";

const plain = { command: "", args: ["lsp"], pythonPath: "" };

test("the version probe replaces the lsp argument", () => {
  assert.deepEqual(versionCommand({ command: "profreg", args: ["lsp"] }), { command: "profreg", args: ["--version"] });
  assert.deepEqual(versionCommand({ command: "/py", args: ["-m", "profreg", "lsp", "--log-level", "INFO"] }), {
    command: "/py",
    args: ["-m", "profreg", "--version"],
  });
  assert.equal(versionCommand({ command: "my-wrapper", args: ["--serve"] }), undefined);
});

test("the cause is the error line of the output", () => {
  assert.equal(causeFromOutput("/usr/bin/python3: No module named profreg\n"), "/usr/bin/python3: No module named profreg");
  assert.equal(
    causeFromOutput("Traceback (most recent call last):\n  File x\nModuleNotFoundError: No module named 'pygls'\n"),
    "ModuleNotFoundError: No module named 'pygls'",
  );
  assert.equal(causeFromOutput(""), "it exited without saying why");
});

test("the setting named is the one that chose the command", () => {
  assert.equal(responsibleSetting(plain), "profreg.server.command");
  assert.equal(responsibleSetting({ ...plain, pythonPath: "/venv/bin/python" }), "profreg.server.pythonPath");
  assert.equal(responsibleSetting({ ...plain, command: "/x/profreg", pythonPath: "/venv/bin/python" }), "profreg.server.command");
});

test("an interpreter without profreg fails the probe with Python's own words and the setting", () => {
  const settings = { ...plain, pythonPath: process.execPath };
  // node stands in for an interpreter: `node -m profreg --version` fails with node's error text
  const result = probeServer({ command: process.execPath, args: ["-m", "profreg", "lsp"] }, settings);
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.equal(result.setting, "profreg.server.pythonPath");
    assert.match(result.message, /cannot start: .*-m profreg --version" says/);
    assert.match(result.message, /profreg\.server\.pythonPath/);
  }
});

test("a missing program is named", () => {
  const result = probeServer({ command: "profreg-not-installed-here", args: ["lsp"] }, plain, { envPath: "/nonexistent" });
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.match(result.message, /cannot find the program "profreg-not-installed-here"/);
    assert.match(result.message, /pip install profreg/);
  }
});
