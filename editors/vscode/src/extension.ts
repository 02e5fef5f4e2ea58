// The profreg VS Code extension: starts the profreg language server for registry YAML
// files and leaves all other YAML alone.

import * as vscode from "vscode";
import {
  CloseAction,
  DidOpenTextDocumentNotification,
  ErrorAction,
  ErrorHandler,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { hasSchemaModeline, withoutOffered } from "./modelineOverlap";
import { codesLeftToYaml, profregSchemaGlobs, SchemaErrorsSetting } from "./schemaErrors";
import { serverLaunch, ServerSettings } from "./serverCommand";
import { ServedDocuments } from "./servedDocuments";
import { ServerStatus } from "./serverStatus";
import { probeServer } from "./startupCheck";
import { deferServedFilesToProfreg, stopDeferring, YAML_EXTENSION_ID, yamlDefersToProfreg } from "./yamlExtension";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: ServerStatus;
/** Set while the extension itself stops a client, so that its exit is not reported as a crash. */
let stopping = false;
/** When the extension last stopped a server on purpose (its exit may be reported a little later). */
let stoppedOnPurposeAt = 0;
const QUIET_AFTER_STOP_MS = 20000;
/** How long a server may take to exit after `shutdown` before it is killed. */
const STOP_TIMEOUT_MS = 10000;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("profreg");
  status = new ServerStatus();
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand("profreg.restartServer", () => restart()),
    vscode.commands.registerCommand("profreg.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const needsRestart = ["profreg.server", "profreg.files", "profreg.diagnostics", "profreg.yamlExtension"].some((section) =>
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

let restarting: Promise<void> | undefined;

/** One restart at a time: a second request while one runs waits for it, then restarts again. */
async function restart(): Promise<void> {
  const previous = restarting;
  const run = (async () => {
    await previous;
    await stop();
    await start();
  })();
  restarting = run;
  await run;
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    stopping = true;
    stoppedOnPurposeAt = Date.now();
    try {
      if (running.state !== State.Stopped) {
        await running.stop(STOP_TIMEOUT_MS);
      }
    } catch (error) {
      output.appendLine(`Stopping the server failed: ${String(error)}`);
    } finally {
      stopping = false;
    }
  }
  status.set({ kind: "stopped" });
}

function workspaceFolderPath(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** One notification for a server that cannot start, naming the cause and the setting to change. */
async function reportStartFailure(message: string, setting: string, cause: string): Promise<void> {
  output.appendLine(message);
  status.set({ kind: "failed", cause, setting });
  const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Output");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", setting);
  } else if (choice === "Show Output") {
    output.show(true);
  }
}

/**
 * The language client's own output, less the exit line of a server the extension stopped on
 * purpose (a restart): that line reads like a crash and is not one.
 */
function clientOutput(): vscode.OutputChannel {
  const exitLine = /Server process exited with (code|signal) /;
  return {
    ...output,
    name: output.name,
    append: (value: string) => output.append(value),
    appendLine: (value: string) => {
      if (!(exitLine.test(value) && (stopping || Date.now() - stoppedOnPurposeAt < QUIET_AFTER_STOP_MS))) {
        output.appendLine(value);
      }
    },
    replace: (value: string) => output.replace(value),
    clear: () => output.clear(),
    show: (...args: unknown[]) => (output.show as (...a: unknown[]) => void)(...args),
    hide: () => output.hide(),
    dispose: () => undefined,
  } as vscode.OutputChannel;
}

/** A crash after a good start: restart a few times quietly, then say once why it stopped. */
function errorHandler(settings: ServerSettings, launchLine: string): ErrorHandler {
  const restarts: number[] = [];
  return {
    error: () => ({ action: ErrorAction.Continue, handled: true }),
    closed: () => {
      if (stopping) {
        return { action: CloseAction.DoNotRestart, handled: true };
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && now - restarts[0] > 3 * 60 * 1000) {
        restarts.shift();
      }
      if (restarts.length <= 3) {
        output.appendLine("The language server stopped unexpectedly; starting it again.");
        status.set({ kind: "starting" });
        return { action: CloseAction.Restart, handled: true };
      }
      const probe = probeServer(serverLaunch(settings, workspaceFolderPath()), settings, { cwd: workspaceFolderPath() });
      const cause = probe.ok ? `"${launchLine}" keeps stopping (see the profreg output)` : probe.cause;
      const setting = probe.ok ? "profreg.server.command" : probe.setting;
      void reportStartFailure(probe.ok ? `profreg: the language server ${cause}.` : probe.message, setting, cause);
      return { action: CloseAction.DoNotRestart, handled: true };
    },
  };
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("profreg");
  const settings: ServerSettings = {
    command: config.get<string>("server.command", ""),
    args: config.get<string[]>("server.args", ["lsp"]),
    pythonPath: config.get<string>("server.pythonPath", ""),
  };
  const launch = serverLaunch(settings, workspaceFolderPath());
  const launchLine = [launch.command, ...launch.args].join(" ");
  status.set({ kind: "starting" });
  const probe = probeServer(launch, settings, { cwd: workspaceFolderPath() });
  if (!probe.ok) {
    await reportStartFailure(probe.message, probe.setting, probe.cause);
    return;
  }
  output.appendLine(`Starting the language server: ${launchLine}${probe.version ? ` (${probe.version})` : ""}`);

  const servedNow = new ServedDocuments(
    config.get<string[]>("files.include", []),
    config.get<boolean>("files.detectContent", true),
  );
  if (config.get<boolean>("yamlExtension.coordinate", true)) {
    await deferServedFilesToProfreg((uri) => {
      const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
      return document !== undefined && (servedNow.isOpen(document) || servedNow.shouldServe(document));
    }, (line) => output.appendLine(line));
  } else {
    stopDeferring();
  }
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
    outputChannel: clientOutput(),
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    errorHandler: errorHandler(settings, launchLine),
    initializationFailedHandler: () => false,
    middleware: servedOnlyMiddleware(servedNow, () => config.get<SchemaErrorsSetting>("diagnostics.schemaErrors", "auto")),
  };
  const languageClient = new LanguageClient("profreg", "profreg", serverOptions, clientOptions);
  client = languageClient;
  try {
    await languageClient.start();
    status.set({ kind: "running", version: probe.version });
  } catch (error) {
    client = undefined;
    const cause = String(error instanceof Error ? error.message : error);
    await reportStartFailure(
      `profreg: the language server did not start: ${cause}. Check profreg.server.command / profreg.server.pythonPath.`,
      "profreg.server.command",
      cause,
    );
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
      if (document) {
        const leftToYaml = codesLeftToYaml(schemaErrors(), document.getText(), yamlExtensionState(document));
        diagnostics = diagnostics.filter((diagnostic) => !leftToYaml.has(String(diagnosticCode(diagnostic))));
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
  middleware.provideCompletionItem = async (document, position, context, token, next) => {
    if (!served.isOpen(document) || askingOthers.has(positionKey(document, position))) {
      return undefined;
    }
    const ours = await next(document, position, context, token);
    if (!ours || !yamlValidatesByModeline(document)) {
      return ours;
    }
    const theirs = await othersAnswer<vscode.CompletionList>(document, position, "vscode.executeCompletionItemProvider");
    const items = Array.isArray(ours) ? ours : ours.items;
    const kept = withoutOffered(items, theirs?.items ?? []);
    return Array.isArray(ours) ? kept : new vscode.CompletionList(kept, ours.isIncomplete);
  };
  middleware.provideHover = async (document, position, token, next) => {
    if (!served.isOpen(document) || askingOthers.has(positionKey(document, position))) {
      return undefined;
    }
    const ours = await next(document, position, token);
    if (!ours || !yamlValidatesByModeline(document)) {
      return ours;
    }
    const theirs = await othersAnswer<vscode.Hover[]>(document, position, "vscode.executeHoverProvider");
    return (theirs ?? []).length > 0 ? undefined : ours;
  };
  return middleware;
}

/** Positions at which profreg is asking the other providers (and so answers nothing itself). */
const askingOthers = new Set<string>();

function positionKey(document: vscode.TextDocument, position: vscode.Position): string {
  return `${document.uri.toString()}@${position.line}:${position.character}`;
}

/** What the other providers (the YAML extension's) answer at a position, profreg left out. */
async function othersAnswer<T>(document: vscode.TextDocument, position: vscode.Position, command: string): Promise<T | undefined> {
  const key = positionKey(document, position);
  askingOthers.add(key);
  try {
    return await vscode.commands.executeCommand<T>(command, document.uri, position);
  } finally {
    askingOthers.delete(key);
  }
}

/** Whether the YAML extension completes and hovers this document by its own `$schema=` modeline. */
function yamlValidatesByModeline(document: vscode.TextDocument): boolean {
  const yaml = yamlExtensionState(document);
  return yaml.present && yaml.validates && hasSchemaModeline(document.getText());
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
  return {
    present,
    validates: yamlConfig.get<boolean>("validate", true),
    schemaAssociated,
    defersToProfreg: yamlDefersToProfreg(),
  };
}
