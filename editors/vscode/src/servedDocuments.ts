// The YAML documents the language server is given: files matching the include globs,
// plus (when content detection is on) YAML whose text looks like a registry. Every
// other YAML file is never sent to the server, so it gets no diagnostics, completion
// or hover from profreg.

import * as vscode from "vscode";
import { looksLikeRegistry } from "./registryDetection";

export class ServedDocuments {
  /** URIs of the documents the server has been told are open. */
  private readonly open = new Set<string>();

  constructor(
    private readonly includeGlobs: readonly string[],
    private readonly detectContent: boolean,
  ) {}

  /** Whether a document should be served, judged from its name and (optionally) its text. */
  shouldServe(document: vscode.TextDocument): boolean {
    if (document.languageId !== "yaml") {
      return false;
    }
    const byName = this.includeGlobs.some(
      (pattern) => vscode.languages.match({ language: "yaml", pattern }, document) > 0,
    );
    return byName || (this.detectContent && looksLikeRegistry(document.getText()));
  }

  /** Whether the server currently holds this document (a document or its URI). */
  isOpen(target: vscode.TextDocument | vscode.Uri): boolean {
    const uri = target instanceof vscode.Uri ? target : target.uri;
    return this.open.has(uri.toString());
  }

  markOpen(document: vscode.TextDocument): void {
    this.open.add(document.uri.toString());
  }

  /** Forgets a document; true when the server held it. */
  markClosed(document: vscode.TextDocument): boolean {
    return this.open.delete(document.uri.toString());
  }

  /** A YAML file that starts to look like a registry while being typed is picked up then. */
  becameRegistry(document: vscode.TextDocument): boolean {
    return this.detectContent && !this.isOpen(document) && this.shouldServe(document);
  }
}
