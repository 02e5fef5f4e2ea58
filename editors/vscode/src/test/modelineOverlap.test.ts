import assert from "node:assert/strict";
import { test } from "node:test";
import { hasSchemaModeline, withoutOffered } from "../modelineOverlap";

test("a yaml-language-server $schema modeline is found, for any schema", () => {
  assert.equal(hasSchemaModeline("# yaml-language-server: $schema=./profile-registry.schema.json\nslug: a\n"), true);
  assert.equal(hasSchemaModeline("# yaml-language-server: $schema=https://example.com/other.json\n"), true);
  assert.equal(hasSchemaModeline("# profreg\nslug: a\n"), false);
  assert.equal(hasSchemaModeline("slug: a\n"), false);
});

test("profreg's items that another provider offers too are left out", () => {
  const ours = [{ label: "description" }, { label: "new profile" }, { label: { label: "policy" } }];
  const theirs = [{ label: "description" }, { label: { label: "policy" } }, { label: "metadata" }];
  assert.deepEqual(withoutOffered(ours, theirs).map((item) => item.label), ["new profile"]);
  assert.deepEqual(withoutOffered(ours, []), ours);
});
