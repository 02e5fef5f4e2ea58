import assert from "node:assert/strict";
import { test } from "node:test";
import { leaveSchemaErrorsToYaml, profregSchemaGlobs } from "../schemaErrors";

const modeline = "# yaml-language-server: $schema=./profile-registry.schema.json\nslug: a\n";
const plain = "slug: a\n";
const yamlOn = { present: true, validates: true, schemaAssociated: false };

test("auto leaves schema errors to yaml-language-server only where it validates with our schema", () => {
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, yamlOn), true);
  assert.equal(leaveSchemaErrorsToYaml("auto", plain, yamlOn), false);
  assert.equal(leaveSchemaErrorsToYaml("auto", plain, { ...yamlOn, schemaAssociated: true }), true);
});

test("auto keeps schema errors when the YAML extension is absent or not validating", () => {
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, { ...yamlOn, present: false }), false);
  assert.equal(leaveSchemaErrorsToYaml("auto", modeline, { ...yamlOn, validates: false }), false);
});

test("explicit settings win", () => {
  assert.equal(leaveSchemaErrorsToYaml("profreg", modeline, yamlOn), false);
  assert.equal(leaveSchemaErrorsToYaml("yaml-language-server", plain, { ...yamlOn, present: false }), true);
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
