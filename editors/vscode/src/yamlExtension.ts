// Side by side with Red Hat's YAML extension (redhat.vscode-yaml): through its public
// schema-contributor API, the files profreg serves get a schema that says nothing, so
// yaml-language-server offers no second set of keys, no second hover and no schema
// problems of its own there (profreg's wording is the one shown). It still checks the YAML
// syntax, which profreg then leaves to it (schemaErrors.ts).

import * as vscode from "vscode";

export const YAML_EXTENSION_ID = "redhat.vscode-yaml";
const CONTRIBUTOR = "profreg";
export const DEFERRED_SCHEMA_URI = `${CONTRIBUTOR}://schema/served-by-profreg.json`;
const DEFERRED_SCHEMA = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  $comment: "The profreg extension serves this file: completion, hover and problems come from profreg.",
});

/** The part of redhat.vscode-yaml's exported API used here. */
interface YamlExtensionApi {
  registerContributor(
    schema: string,
    requestSchema: (resource: string) => string | undefined,
    requestSchemaContent: (uri: string) => string | undefined,
    label?: string,
  ): boolean;
}

let servedCheck: (uri: vscode.Uri) => boolean = () => false;
let registered = false;
let claiming = false;

/** Whether the YAML extension currently leaves the files profreg serves to profreg. */
export function yamlDefersToProfreg(): boolean {
  return registered && claiming;
}

/** The contributor claims no file any more (`profreg.yamlExtension.coordinate` turned off). */
export function stopDeferring(): void {
  servedCheck = () => false;
  claiming = false;
}

/**
 * Registers the contributor once per window; later calls only change which files it claims
 * (the YAML extension has no way to unregister one).
 */
export async function deferServedFilesToProfreg(
  isServed: (uri: vscode.Uri) => boolean,
  log: (line: string) => void,
): Promise<boolean> {
  servedCheck = isServed;
  claiming = true;
  if (registered) {
    return true;
  }
  const extension = vscode.extensions.getExtension<YamlExtensionApi>(YAML_EXTENSION_ID);
  if (!extension) {
    return false;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    if (typeof api?.registerContributor !== "function") {
      log(`${YAML_EXTENSION_ID} has no schema contributor API; both extensions will report on registry files.`);
      return false;
    }
    api.registerContributor(
      CONTRIBUTOR,
      (resource) => (servedCheck(vscode.Uri.parse(resource)) ? DEFERRED_SCHEMA_URI : undefined),
      (uri) => (uri === DEFERRED_SCHEMA_URI ? DEFERRED_SCHEMA : undefined),
      "profreg",
    );
    registered = true;
    log(`${YAML_EXTENSION_ID} leaves the files profreg serves to profreg (YAML syntax errors stay with it).`);
  } catch (error) {
    log(`Coordinating with ${YAML_EXTENSION_ID} failed: ${String(error)}`);
  }
  return registered;
}
