// Who reports schema-level errors for a document: profreg, or the YAML extension
// (yaml-language-server) when that validates the same file against the same schema.
// Without this choice a user with both extensions sees every schema error twice.
// Free of the `vscode` module: the caller passes in what it knows about the editor.

import { profregSchemaModeline } from "./registryDetection";

export type SchemaErrorsSetting = "auto" | "profreg" | "yaml-language-server";

/** The diagnostic code profreg gives to errors that come from the JSON Schema. */
export const SCHEMA_DIAGNOSTIC_CODE = "schema";

export interface YamlExtensionState {
  /** redhat.vscode-yaml is installed and enabled. */
  present: boolean;
  /** Its `yaml.validate` setting (true when unset). */
  validates: boolean;
  /** Whether its `yaml.schemas` setting applies the profreg schema to this document. */
  schemaAssociated: boolean;
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
  return yaml.schemaAssociated || profregSchemaModeline(documentText) !== undefined;
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
