import assert from "node:assert/strict";
import { test } from "node:test";
import { looksLikeRegistry, profregSchemaModeline } from "../registryDetection";

test("registry documents are recognised by their top-level keys", () => {
  assert.ok(looksLikeRegistry("slug: default\nprofiles: {}\n"));
  assert.ok(looksLikeRegistry("# comment\nregistries:\n  main: {}\n"));
  assert.ok(looksLikeRegistry("default_profile_slug: agent\n"));
  assert.ok(looksLikeRegistry('"profiles":\n'));
  assert.ok(looksLikeRegistry("profiles:\r\n  a: {}\r\n"));
});

test("half-typed registries are still recognised", () => {
  assert.ok(looksLikeRegistry("slug: default\nprofiles:\n  agent: [\n"));
});

test("other YAML is not a registry", () => {
  assert.equal(looksLikeRegistry(""), false);
  assert.equal(looksLikeRegistry("on:\n  push:\njobs:\n  build:\n    slug: x\n"), false);
  assert.equal(looksLikeRegistry("services:\n  web:\n    image: nginx\n"), false);
  assert.equal(looksLikeRegistry("profiles_dir: /tmp\nslugs: []\n"), false);
});

test("modelines mark a registry", () => {
  assert.ok(looksLikeRegistry("# profreg\nfoo: bar\n"));
  assert.ok(looksLikeRegistry("# yaml-language-server: $schema=../schema/profile-registry.schema.json\nfoo: 1\n"));
  assert.equal(looksLikeRegistry("# yaml-language-server: $schema=other.json\nfoo: 1\n"), false);
});

test("the profreg schema modeline is found anywhere near the top", () => {
  const text = "---\n# yaml-language-server: $schema=file:///x/profile-registry.schema.json\nslug: a\n";
  assert.equal(profregSchemaModeline(text), "file:///x/profile-registry.schema.json");
  assert.equal(profregSchemaModeline("# yaml-language-server: $schema=compose.json\n"), undefined);
});
