import assert from "node:assert/strict";
import { test } from "node:test";
import { codesLeftToYaml, leaveSchemaErrorsToYaml, profregSchemaGlobs } from "../schemaErrors";

const modeline = "# yaml-language-server: $schema=./profile-registry.schema.json\nslug: a\n";
const plain = "slug: a\n";
const yamlOn = { present: true, validates: true, schemaAssociated: false, defersToProfreg: false };

test("auto leaves schema errors to yaml-language-server only where it validates with our schema", () => {
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, yamlOn), true);
  assert.equal(leaveSchemaErrorsToYaml("auto", plain, yamlOn), false);
  assert.equal(leaveSchemaErrorsToYaml("auto", plain, { ...yamlOn, schemaAssociated: true }), true);
});

test("auto keeps schema errors (profreg's wording) where the YAML extension defers to profreg", () => {
  const deferring = { ...yamlOn, schemaAssociated: true, defersToProfreg: true };
  assert.equal(leaveSchemaErrorsToYaml("auto", plain, deferring), false);
  // a modeline is honoured by yaml-language-server before any extension's contributor
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, deferring), true);
});

test("auto keeps schema errors when the YAML extension is absent or not validating", () => {
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, { ...yamlOn, present: false }), false);
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, { ...yamlOn, validates: false }), false);
});

test("explicit settings win", () => {
  assert.equal(leaveSchemaErrorsToYaml("profreg", modeline, yamlOn), false);
  assert.equal(leaveSchemaErrorsToYaml("yaml-language-server", plain, { ...yamlOn, present: false }), true);
});

test("YAML syntax errors are left to the YAML extension whenever it validates", () => {
  assert.deepEqual([...codesLeftToYaml("auto", plain, { ...yamlOn, defersToProfreg: true })].sort(), [
    "yaml-duplicate-key",
    "yaml-syntax",
  ]);
  assert.deepEqual([...codesLeftToYaml("auto", modeline, yamlOn)].sort(), ["schema", "yaml-duplicate-key", "yaml-syntax"]);
  assert.deepEqual([...codesLeftToYaml("auto", plain, { ...yamlOn, validates: false })], []);
  assert.deepEqual([...codesLeftToYaml("auto", plain, { ...yamlOn, present: false })], []);
  assert.deepEqual([...codesLeftToYaml("profreg", modeline, yamlOn)], []);
});

test("yaml.schemas entries naming the profreg schema give their globs", () => {
  assert.deepEqual(
    profregSchemaGlobs({
      "/repo/schema/profile-registry.schema.json": ["*.registry.yaml", "conf/*.yml"],
      "https://json.schemastore.org/github-workflow.json": ".github/workflows/*.yml",
      "./profile-registry.schema.json": "profiles.yaml",
    }),
    ["*.registry.yaml", "conf/*.yml", "profiles.yaml"],
  );
  assert.deepEqual(profregSchemaGlobs(undefined), []);
});
