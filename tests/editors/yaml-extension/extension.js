// A stand-in for Red Hat's YAML extension (redhat.vscode-yaml), for the side-by-side test:
// the same yaml-language-server, started for every YAML document, with the parts of that
// extension's client another extension relies on: the `yaml.*` settings sent to the
// server, and the schema contributor API (`registerContributor`) answered through the
// server's `custom/schema/request` and `custom/schema/content` requests.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

class SchemaExtensionAPI {
  constructor() {
    this.contributors = {};
  }

  registerContributor(schema, requestSchema, requestSchemaContent, label) {
    if (this.contributors[schema]) {
      return false;
    }
    if (!requestSchema) {
      throw new Error("Illegal parameter for requestSchema.");
    }
    this.contributors[schema] = { requestSchema, requestSchemaContent, label };
    return true;
  }

  requestCustomSchema(resource) {
    const found = [];
    for (const contributor of Object.values(this.contributors)) {
      const uri = contributor.requestSchema(resource);
      if (uri) {
        found.push(uri);
      }
    }
    return found;
  }

  requestCustomSchemaContent(uri) {
    const scheme = vscode.Uri.parse(uri).scheme;
    const contributor = this.contributors[scheme];
    return contributor && contributor.requestSchemaContent ? contributor.requestSchemaContent(uri) : undefined;
  }
}

function activate(context) {
  const api = new SchemaExtensionAPI();
  const serverModule = vscode.workspace.getConfiguration("yamlStandIn").get("serverModule");
  const serverOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc },
  };
  const clientOptions = {
    documentSelector: [{ language: "yaml" }],
    synchronize: { configurationSection: ["yaml", "http", "[yaml]", "editor"] },
  };
  client = new LanguageClient("yaml", "YAML Support", serverOptions, clientOptions);
  client.start().then(() => {
    client.sendNotification("yaml/registerCustomSchemaRequest");
    client.onRequest("custom/schema/request", (resource) => api.requestCustomSchema(resource));
    client.onRequest("custom/schema/content", (uri) => api.requestCustomSchemaContent(uri));
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return api;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
