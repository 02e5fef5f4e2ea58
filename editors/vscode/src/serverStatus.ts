// The language server's state in the status bar: starting, running (with its version),
// stopped or failed (with the cause). Clicking it shows the output, or the setting to
// change when the server could not start.

import * as vscode from "vscode";

export type ServerState =
  | { kind: "starting" }
  | { kind: "running"; version: string }
  | { kind: "stopped" }
  | { kind: "failed"; cause: string; setting: string };

export class ServerStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  state: ServerState = { kind: "stopped" };

  constructor() {
    this.item = vscode.window.createStatusBarItem("profreg.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "profreg language server";
    this.set({ kind: "starting" });
    this.item.show();
  }

  set(state: ServerState): void {
    this.state = state;
    const item = this.item;
    const look = {
      starting: { icon: "sync~spin", tip: "the language server is starting", command: "profreg.showOutput" },
      running: {
        icon: "check",
        tip: `the language server is running${state.kind === "running" && state.version ? ` (${state.version})` : ""}. Click for its output.`,
        command: "profreg.showOutput",
      },
      stopped: { icon: "circle-slash", tip: "the language server is stopped. Click to restart it.", command: "profreg.restartServer" },
      failed: { icon: "error", tip: "", command: "" },
    }[state.kind];
    item.text = `$(${look.icon}) profreg`;
    item.tooltip = `profreg: ${look.tip}`;
    item.command = look.command;
    item.backgroundColor = undefined;
    if (state.kind === "failed") {
      item.tooltip = `profreg: the language server cannot start: ${state.cause}. Click to open the setting ${state.setting}.`;
      item.command = { title: "Open Settings", command: "workbench.action.openSettings", arguments: [state.setting] };
      item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
    }
    item.accessibilityInformation = { label: `profreg language server: ${state.kind}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
