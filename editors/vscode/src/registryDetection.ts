// Which YAML text looks like a profreg registry: the same rule the language server uses
// (SPEC section 7), applied to text so that it also works on half-typed documents.
// Kept free of the `vscode` module so that it can be unit-tested with plain node.

/** Top-level keys (at column 1) that only a registry document starts with. */
const REGISTRY_KEY_LINE = /^(["']?)(registries|slug|profiles|default_profile_slug)\1[ \t]*:(?:[ \t]|$)/m;

/** `# profreg` on the first line marks a registry file explicitly. */
const PROFREG_MODELINE = /^#\s*profreg\b/;

/** A yaml-language-server modeline naming the profreg schema file. */
const SCHEMA_MODELINE = /^#\s*yaml-language-server\s*:.*\$schema=(\S*profile-registry\.schema\.json\S*)/m;

/** How much of a document is scanned: registry keys sit at the top of real files. */
const SCAN_LIMIT = 256 * 1024;

export function firstLine(text: string): string {
  const end = text.search(/\r\n|\r|\n/);
  return end < 0 ? text : text.slice(0, end);
}

/** The schema URL of a `# yaml-language-server: $schema=` modeline naming profreg's schema, if any. */
export function profregSchemaModeline(text: string): string | undefined {
  const match = SCHEMA_MODELINE.exec(text.slice(0, SCAN_LIMIT));
  return match ? match[1] : undefined;
}

export function looksLikeRegistry(text: string): boolean {
  const head = text.slice(0, SCAN_LIMIT);
  const first = firstLine(head);
  if (PROFREG_MODELINE.test(first)) {
    return true;
  }
  if (first.includes("$schema=") && first.includes("profile-registry.schema.json")) {
    return true;
  }
  return REGISTRY_KEY_LINE.test(head);
}
