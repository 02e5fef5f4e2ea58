// A `# yaml-language-server: $schema=…` modeline is the one thing yaml-language-server
// (Red Hat's YAML extension) honours before any other extension's word: it then validates,
// completes and hovers that file by the modeline's schema, whatever profreg asks of it.
// So that the user still sees each completion item and hover once there, profreg leaves
// out its own items the YAML extension also offers at the position, and its hover where
// the YAML extension shows one (schema problems: schemaErrors.ts).
// Free of the `vscode` module: the caller passes in what the other providers answered.

/** A `# yaml-language-server: $schema=` modeline in the text (any schema). */
const ANY_SCHEMA_MODELINE = /^#\s*yaml-language-server\s*:.*\$schema=\S+/m;

/** How much of a document is scanned for the modeline (as registryDetection.ts). */
const SCAN_LIMIT = 256 * 1024;

export function hasSchemaModeline(text: string): boolean {
  return ANY_SCHEMA_MODELINE.test(text.slice(0, SCAN_LIMIT));
}

/** The label of a completion item, whether it is a string or a CompletionItemLabel. */
export function labelText(label: string | { label: string }): string {
  return typeof label === "string" ? label : label.label;
}

/** profreg's items without those whose label another provider offers too. */
export function withoutOffered<T extends { label: string | { label: string } }>(ours: T[], theirs: Array<{ label: string | { label: string } }>): T[] {
  const offered = new Set(theirs.map((item) => labelText(item.label)));
  return ours.filter((item) => !offered.has(labelText(item.label)));
}
