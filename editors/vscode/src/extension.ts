// The profreg VS Code extension: starts the profreg language server for registry YAML
// files and leaves all other YAML alone.

import * as vscode from "vscode";
import {
  DidOpenTextDocumentNotification,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ServerOptions,
} from "vscode-languageclient/node";
import { leaveSchemaErrorsToYaml, profregSchemaGlobs, SCHEMA_DIAGNOSTIC_CODE, SchemaErrorsSetting } from "./schemaErrors";
import { findExecutable, serverLaunch } from "./serverCommand";
import { ServedDocuments } from "./servedDocuments";

const YAML_EXTENSION_ID = "redhat.vscode-yaml";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("profreg");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("profreg.restartServer", () => restart()),
    vscode.commands.registerCommand("profreg.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const needsRestart = ["profreg.server", "profreg.files", "profreg.diagnostics"].some((section) =>
        event.affectsConfiguration(section),
      );
      if (needsRestart) {
        void restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart()),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`Stopping the server failed: ${String(error)}`);
    }
  }
}

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("profreg");
  const launch = serverLaunch(
    {
      command: config.get<string>("server.command", ""),
      args: config.get<string[]>("server.args", ["lsp"]),
      pythonPath: config.get<string>("server.pythonPath", ""),
    },
    workspaceFolderPath(),
  );
  if (!findExecutable(launch.command)) {
    const message =
      `profreg: cannot find the language server command "${launch.command}". ` +
      "Install profreg (pip install profreg) or set profreg.server.command or profreg.server.pythonPath.";
    output.appendLine(message);
    const choice = await vscode.window.showErrorMessage(message, "Open Settings");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "profreg.server");
    }
    return;
  }
  output.appendLine(`Starting the language server: ${[launch.command, ...launch.args].join(" ")}`);

  const served = new ServedDocuments(
    config.get<string[]>("files.include", []),
    config.get<boolean>("files.detectContent", true),
  );
  const serverOptions: ServerOptions = {
    command: launch.command,
    args: launch.args,
    options: { cwd: workspaceFolderPath() },
  };
  const clientOptions: LanguageClientOptions = {
    // Every YAML document reaches the middleware, which passes on only the served ones.
    documentSelector: [
      { scheme: "file", language: "yaml" },
      { scheme: "untitled", language: "yaml" },
    ],
    outputChannel: output,
    middleware: servedOnlyMiddleware(served, () => config.get<SchemaErrorsSetting>("diagnostics.schemaErrors", "auto")),
  };
  const languageClient = new LanguageClient("profreg", "profreg", serverOptions, clientOptions);
  client = languageClient;
  try {
    await languageClient.start();
  } catch (error) {
    output.appendLine(`The language server did not start: ${String(error)}`);
    void vscode.window.showErrorMessage(`profreg: the language server did not start (${String(error)}).`, "Show Output")
      .then((choice) => choice && output.show(true));
  }
}

/** Provider hooks whose first argument is the document (or its URI): gated on `served`. */
const DOCUMENT_PROVIDERS = [
  "provideCompletionItem",
  "provideHover",
  "provideDefinition",
  "provideDeclaration",
  "provideTypeDefinition",
  "provideImplementation",
  "provideReferences",
  "provideDocumentHighlights",
  "provideDocumentSymbols",
  "provideCodeActions",
  "provideCodeLenses",
  "provideDocumentLinks",
  "provideDocumentFormattingEdits",
  "provideDocumentRangeFormattingEdits",
  "provideOnTypeFormattingEdits",
  "provideRenameEdits",
  "prepareRename",
  "provideSignatureHelp",
  "provideFoldingRanges",
  "provideSelectionRanges",
  "provideLinkedEditingRange",
  "provideInlayHints",
  "provideDocumentColors",
  "provideDocumentSemanticTokens",
  "provideDocumentSemanticTokensEdits",
  "provideDocumentRangeSemanticTokens",
  "provideDiagnostics",
] as const;

function servedOnlyMiddleware(served: ServedDocuments, schemaErrors: () => SchemaErrorsSetting): Middleware {
  const middleware: Middleware = {
    didOpen: async (document, next) => {
      if (served.shouldServe(document)) {
        served.markOpen(document);
        await next(document);
      }
    },
    didChange: async (event, next) => {
      if (served.isOpen(event.document)) {
        await next(event);
      } else if (served.becameRegistry(event.document) && client) {
        // Open it now with its whole current text; the change itself is already in it.
        served.markOpen(event.document);
        await client.sendNotification(DidOpenTextDocumentNotification.type, {
          textDocument: {
            uri: client.code2ProtocolConverter.asUri(event.document.uri),
            languageId: event.document.languageId,
            version: event.document.version,
            text: event.document.getText(),
          },
        });
      }
    },
    didClose: async (document, next) => {
      if (served.markClosed(document)) {
        await next(document);
      }
    },
    didSave: async (document, next) => {
      if (served.isOpen(document)) {
        await next(document);
      }
    },
    willSave: async (event, next) => {
      if (served.isOpen(event.document)) {
        await next(event);
      }
    },
    willSaveWaitUntil: (event, next) => (served.isOpen(event.document) ? next(event) : Promise.resolve([])),
    handleDiagnostics: (uri, diagnostics, next) => {
      const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
      if (document && leaveSchemaErrorsToYaml(schemaErrors(), document.getText(), yamlExtensionState(document))) {
        diagnostics = diagnostics.filter((diagnostic) => diagnosticCode(diagnostic) !== SCHEMA_DIAGNOSTIC_CODE);
      }
      next(uri, diagnostics);
    },
  };
  const gated = middleware as Record<string, unknown>;
  for (const name of DOCUMENT_PROVIDERS) {
    gated[name] = (...args: unknown[]) => {
      const target = args[0] as vscode.TextDocument | vscode.Uri;
      const next = args[args.length - 1] as (...rest: unknown[]) => unknown;
      return served.isOpen(target) ? next(...args.slice(0, -1)) : undefined;
    };
  }
  return middleware;
}

function diagnosticCode(diagnostic: vscode.Diagnostic): string | number | undefined {
  const code = diagnostic.code;
  return typeof code === "object" ? code.value : code;
}

/** What the YAML extension (yaml-language-server) would do with this document. */
function yamlExtensionState(document: vscode.TextDocument) {
  const present = vscode.extensions.getExtension(YAML_EXTENSION_ID) !== undefined;
  const yamlConfig = vscode.workspace.getConfiguration("yaml", document.uri);
  const globs = profregSchemaGlobs(yamlConfig.get<Record<string, string | string[]>>("schemas"));
  const schemaAssociated = globs.some((glob) => {
    const pattern = glob.startsWith("/") || glob.startsWith("**") ? glob : `**/${glob}`;
    return vscode.languages.match({ pattern }, document) > 0;
  });
  return { present, validates: yamlConfig.get<boolean>("validate", true), schemaAssociated };
}
