// Who reports which problems for a document when Red Hat's YAML extension
// (yaml-language-server) also serves it, so that each problem is reported once.
// - Schema-level problems: profreg, in its own words ("did you mean ...?"), because the
//   profreg extension asks the YAML extension to leave the files it serves alone (see
//   yamlExtension.ts). A `$schema=` modeline is the one thing yaml-language-server honours
//   before any extension's word, so for such a file profreg leaves them to it.
// - YAML syntax errors and duplicate keys: yaml-language-server reports them for every
//   YAML file it validates, whatever the schema, so profreg drops its own copies.
// Free of the `vscode` module: the caller passes in what it knows about the editor.

import { profregSchemaModeline } from "./registryDetection";

export type SchemaErrorsSetting = "auto" | "profreg" | "yaml-language-server";

/** The diagnostic code profreg gives to errors that come from the JSON Schema. */
export const SCHEMA_DIAGNOSTIC_CODE = "schema";

/** profreg's codes for what yaml-language-server reports in any YAML file it validates. */
export const YAML_SYNTAX_CODES = ["yaml-syntax", "yaml-duplicate-key"] as const;

export interface YamlExtensionState {
  /** redhat.vscode-yaml is installed and enabled. */
  present: boolean;
  /** Its `yaml.validate` setting (true when unset). */
  validates: boolean;
  /** Whether its `yaml.schemas` setting applies the profreg schema to this document. */
  schemaAssociated: boolean;
  /** Whether it took profreg's schema contributor, which steers it off the files profreg serves. */
  defersToProfreg: boolean;
}

/** True when profreg should drop its own schema-level diagnostics for this document. */
export function leaveSchemaErrorsToYaml(
  setting: SchemaErrorsSetting,
  documentText: string,
  yaml: YamlExtensionState,
): boolean {
  if (setting === "profreg") {
    return false;
  }
  if (setting === "yaml-language-server") {
    return true;
  }
  // auto: only when yaml-language-server really validates this file against our schema.
  if (!yaml.present || !yaml.validates) {
    return false;
  }
  if (profregSchemaModeline(documentText) !== undefined) {
    return true;
  }
  return yaml.schemaAssociated && !yaml.defersToProfreg;
}

/** The diagnostic codes profreg leaves to the YAML extension for this document. */
export function codesLeftToYaml(
  setting: SchemaErrorsSetting,
  documentText: string,
  yaml: YamlExtensionState,
): Set<string> {
  const codes = new Set<string>();
  if (setting !== "profreg" && yaml.present && yaml.validates) {
    YAML_SYNTAX_CODES.forEach((code) => codes.add(code));
  }
  if (leaveSchemaErrorsToYaml(setting, documentText, yaml)) {
    codes.add(SCHEMA_DIAGNOSTIC_CODE);
  }
  return codes;
}

/** The `yaml.schemas` globs that map the profreg schema (by its file name) onto files. */
export function profregSchemaGlobs(yamlSchemas: Record<string, string | string[]> | undefined): string[] {
  const globs: string[] = [];
  for (const [schema, patterns] of Object.entries(yamlSchemas ?? {})) {
    if (schema.includes("profile-registry.schema.json")) {
      globs.push(...(Array.isArray(patterns) ? patterns : [patterns]));
    }
  }
  return globs;
}
