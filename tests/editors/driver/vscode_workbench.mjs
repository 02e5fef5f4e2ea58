// Drives a VS Code workbench (code-server) in an already running headless Chromium:
// opens a file, reads the Problems panel, asks for completion at a position, and
// saves a screenshot. Prints what it saw as one JSON object; the Python test judges it.
//
// node vscode_workbench.mjs '{"browserWSEndpoint": ..., "url": ..., "file": ..., ...}'
import puppeteer from "puppeteer-core";

const job = JSON.parse(process.argv[2]);
const timeout = job.timeoutMs ?? 90000;
const observed = { problems: [], completions: [], steps: [] };

function step(name) {
  observed.steps.push(`${new Date().toISOString()} ${name}`);
}

async function waitForRows(page, selector, predicate, what) {
  const deadline = Date.now() + timeout;
  let rows = [];
  while (Date.now() < deadline) {
    rows = await page.$$eval(selector, (elements) =>
      elements.map((el) => ({ aria: el.getAttribute("aria-label") ?? "", text: el.innerText ?? "" })),
    );
    if (predicate(rows)) {
      return rows;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  observed.timedOut = what;
  return rows;
}

/** A Problems row for one error (not a file header, warning or info). */
function isError(row) {
  return /^Error\b/.test(row.aria) && /line \d+/i.test(row.aria);
}

async function press(page, ...keys) {
  for (const key of keys.slice(0, -1)) {
    await page.keyboard.down(key);
  }
  await page.keyboard.press(keys[keys.length - 1]);
  for (const key of keys.slice(0, -1).reverse()) {
    await page.keyboard.up(key);
  }
}


/**
 * Quick open (Ctrl+P) a file and wait until its editor is the active one. Enter waits for
 * the *selected* row to be the file: until the typed name has filtered the list, the
 * selected row is the most recently used other file, which Enter would open instead.
 */
async function openFile(page, file, what = "quick open " + file) {
  await press(page, "Control", "p");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(file);
  await waitForRows(page, ".quick-input-widget .monaco-list-row.focused", (rows) => rows.some((r) => r.aria.includes(file)), what);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.tab.active[data-resource-name="${file}"]`, { timeout });
  await page.waitForSelector(".quick-input-widget", { hidden: true }).catch(() => undefined);
  await page.waitForSelector(".monaco-editor .view-lines", { visible: true });
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function goTo(page, line, column) {
  await press(page, "Control", "g");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press("Enter");
  // Keys typed before the quick input has closed would land in it.
  await page.waitForSelector(".quick-input-widget", { hidden: true }).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function readRows(page, selector) {
  return page.$$eval(selector, (elements) =>
    elements.map((el) => ({ aria: el.getAttribute("aria-label") ?? "", text: el.innerText ?? "" })),
  );
}

/** The notification toasts on screen (message text of each). */
async function readToasts(page) {
  return page.$$eval(".notifications-toasts .notification-toast .notification-list-item-message", (elements) =>
    elements.map((el) => el.innerText ?? ""),
  );
}

/** The text of the hover widget's blocks, one entry per provider answer shown. */
async function readHover(page) {
  return page.$$eval(".monaco-hover:not(.hidden) .hover-row.markdown-hover, .monaco-hover:not(.hidden) .hover-contents", (elements) => {
    const rows = elements.filter((el) => el.classList.contains("hover-row"));
    return (rows.length ? rows : elements).map((el) => el.innerText ?? "").filter((text) => text.trim());
  });
}

/** Asks for completion (Ctrl+Space) until an item with the label is offered; the rows shown. */
async function suggestUntil(page, label) {
  const deadline = Date.now() + 30000;
  let rows = [];
  while (Date.now() < deadline) {
    await page.keyboard.press("Escape");
    await press(page, "Control", "Space");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    rows = await readRows(page, ".suggest-widget.visible .monaco-list-row");
    if (rows.some((r) => r.text.split("\n")[0].trim() === label)) {
      break;
    }
  }
  return rows;
}

/** The text of the active editor's rendered lines, top to bottom. */
async function editorLines(page) {
  return page.$$eval(".part.editor .monaco-editor .view-lines .view-line", (elements) =>
    elements
      .map((el) => ({ top: parseFloat(el.style.top || "0"), text: (el.innerText ?? "").replace(/\u00a0/g, " ") }))
      .sort((a, b) => a.top - b.top)
      .map((line) => line.text),
  );
}

async function statusBarItems(page) {
  return page.$$eval(".part.statusbar .statusbar-item", (elements) =>
    elements.map((el) => ({ aria: el.getAttribute("aria-label") ?? "", text: el.innerText ?? "" })),
  );
}

/**
 * What a user sees on a registry both language servers serve: the Problems rows once the
 * text shows up (and a while after), the hover blocks on a key, the completion items on a
 * new line. A screenshot with the suggest widget open, if asked; the new line stays.
 */
async function observeBothServers(page, spec) {
  const seen = {};
  step("both servers: problems of " + spec.file);
  await openFile(page, spec.file);
  await press(page, "Control", "Shift", "m");
  await waitForRows(
    page,
    ".markers-panel .monaco-list-row",
    (rows) => rows.some((r) => r.text.includes(spec.problemText)),
    "problem in " + spec.file,
  );
  // Give the second server time to publish what it would publish.
  await new Promise((resolve) => setTimeout(resolve, spec.settleMs ?? 4000));
  seen.problems = await readRows(page, ".markers-panel .monaco-list-row");

  step("both servers: hover");
  await page.click(".monaco-editor .view-lines");
  await goTo(page, spec.hover.line, spec.hover.column);
  const hoverDeadline = Date.now() + 30000;
  seen.hover = [];
  while (Date.now() < hoverDeadline && seen.hover.length === 0) {
    await press(page, "Control", "k");
    await press(page, "Control", "i");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    seen.hover = await readHover(page);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // a slower provider's block would join
  seen.hover = await readHover(page);
  await page.keyboard.press("Escape");

  step("both servers: completion");
  await goTo(page, spec.complete.line, 1);
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await suggestUntil(page, spec.complete.label);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // a slower provider's items would join
  const rows = await readRows(page, ".suggest-widget.visible .monaco-list-row");
  seen.completions = rows.map((r) => r.text.split("\n")[0].trim());
  if (spec.screenshot) {
    step("both servers: screenshot");
    await page.screenshot({ path: spec.screenshot });
  }
  await page.keyboard.press("Escape");
  return seen;
}

const browser = await puppeteer.connect({ browserWSEndpoint: job.browserWSEndpoint, defaultViewport: { width: 1400, height: 900 } });
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  step("open workbench");
  await page.goto(job.url, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench .part.editor", { timeout });
  // The explorer shows the folder once the remote file system is ready.
  await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout });

  step("quick open " + job.file);
  await page.click(".monaco-workbench .part.editor");
  await openFile(page, job.file, "quick open");

  step("problems panel");
  await press(page, "Control", "Shift", "m");
  const problemRow = ".markers-panel .monaco-list-row";
  observed.problems = await waitForRows(page, problemRow, (rows) => rows.filter(isError).length >= job.minProblems, "problems");

  if (job.complete) {
    step("completion");
    const { line, column } = job.complete;
    await page.click(".monaco-editor .view-lines");
    await press(page, "Control", "g");
    await page.waitForSelector(".quick-input-widget input", { visible: true });
    await page.keyboard.type(`${line}:${column}`);
    await page.keyboard.press("Enter");
    // Drop the rest of the line, so the cursor sits right after the given prefix.
    await press(page, "Shift", "End");
    await page.keyboard.press("Delete");
    const wanted = job.complete.labels ?? [];
    const offered = (found) =>
      wanted.every((label) => found.some((r) => r.aria.split(/[,\s]/)[0] === label || r.text.split("\n")[0].trim() === label));
    // Ask again every few seconds: a request that raced the server's start-up or the
    // edit's sync shows "No suggestions" and is not retried by VS Code itself.
    const deadline = Date.now() + timeout;
    let rows = [];
    observed.completionAttempts = 0;
    while (Date.now() < deadline) {
      observed.completionAttempts += 1;
      await page.keyboard.press("Escape");
      await press(page, "Control", "Space");
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        rows = await page.$$eval(".suggest-widget.visible .monaco-list-row", (elements) =>
          elements.map((el) => ({ aria: el.getAttribute("aria-label") ?? "", text: el.innerText ?? "" })),
        );
        if (offered(rows)) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (offered(rows)) {
        break;
      }
      observed.suggestMessage = await page.$eval(".suggest-widget .message", (el) => el.innerText).catch(() => null);
    }
    if (!offered(rows)) {
      observed.timedOut = "completion";
    }
    observed.completions = rows.map((r) => r.text.split("\n")[0].trim());
    step("screenshot");
    await page.screenshot({ path: job.screenshot });
  }

  if (job.otherFile) {
    // A YAML file the extension must not hand to the server: give the server time to
    // publish for it (it would, were the file served), then read the Problems panel again.
    step("open other file " + job.otherFile);
    await openFile(page, job.otherFile, "quick open other");
    await new Promise((resolve) => setTimeout(resolve, job.otherFileWaitMs ?? 4000));
    observed.problemsAfterOther = await page.$$eval(".markers-panel .monaco-list-row", (elements) =>
      elements.map((el) => ({ aria: el.getAttribute("aria-label") ?? "", text: el.innerText ?? "" })),
    );
  }

  if (job.namedFile) {
    // A file served because of its name: its diagnostics must appear.
    step("open named file " + job.namedFile.file);
    await openFile(page, job.namedFile.file, "quick open named");
    observed.problemsForNamed = await waitForRows(
      page,
      ".markers-panel .monaco-list-row",
      (rows) => rows.some((r) => r.text.includes(job.namedFile.code)),
      "named file problems",
    );
  }

  if (job.commands) {
    // The extension's commands, through the command palette: restart the server, then
    // show its output channel, which logs each start.
    for (const title of job.commands) {
      step("command " + title);
      await press(page, "Control", "Shift", "p");
      await page.waitForSelector(".quick-input-widget input", { visible: true });
      await page.keyboard.type(title);
      await waitForRows(page, ".quick-input-widget .monaco-list-row", (rows) => rows.some((r) => r.aria.includes(title)), "command " + title);
      await page.keyboard.press("Enter");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const outputDeadline = Date.now() + timeout;
    while (Date.now() < outputDeadline) {
      observed.outputText = await page
        .$eval(".part.panel .monaco-editor .view-lines", (el) => el.innerText.replace(/\u00a0/g, " "))
        .catch(() => "");
      if ((observed.outputText.match(new RegExp(job.outputLine, "g")) ?? []).length >= job.outputCount) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  if (job.afterRestart) {
    // The restarted server must serve the document: an edit that fixes one problem
    // must make the Problems panel drop it.
    const { file, line, column, text, problems } = job.afterRestart;
    step("edit after restart");
    await openFile(page, file, "quick open again");
    // goTo waits for the quick input to close: keys typed before that are lost in it.
    await goTo(page, line, column);
    await page.keyboard.type(text);
    // The typed text must be in the editor before the panel is judged.
    const typedDeadline = Date.now() + 10000;
    observed.linesAfterRestart = await editorLines(page);
    while (Date.now() < typedDeadline && !observed.linesAfterRestart.some((l) => l.includes(text))) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      observed.linesAfterRestart = await editorLines(page);
    }
    await press(page, "Control", "Shift", "m");
    observed.problemsAfterRestart = await waitForRows(
      page,
      ".markers-panel .monaco-list-row",
      (rows) => rows.filter(isError).length === problems,
      "problems after restart",
    );
  }


  if (job.sideBySide) {
    // Both language servers serve the same registry: each problem, completion item and
    // hover block must be there once, in profreg's words.
    const side = job.sideBySide;
    observed.side = await observeBothServers(page, side);
    await press(page, "Control", "z");

    if (side.highlight) {
      // Document highlights on a profile key: its key and where it is named, nothing else.
      step("side by side: highlights and code lens");
      await goTo(page, side.highlight.line, side.highlight.column);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      observed.side.highlights = await page.$$eval(
        ".monaco-editor .view-overlays [class*='wordHighlight']",
        (elements) => elements.map((el) => el.className),
      );
      // Code lenses are drawn a while after the providers answer.
      const lensDeadline = Date.now() + 30000;
      do {
        observed.side.codeLenses = await page.$$eval(".monaco-editor .codelens-decoration", (elements) =>
          elements.map((el) => (el.innerText ?? "").replace(/\u00a0/g, " ")),
        );
        if (observed.side.codeLenses.some((text) => text.includes(side.highlight.lens))) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      } while (Date.now() < lensDeadline);
      await page.screenshot({ path: side.highlight.screenshot });
    }

    if (side.quickFix) {
      // A quick fix chosen from the lightbulb menu (Ctrl+.): its problem leaves the panel.
      step("side by side: quick fix");
      await goTo(page, side.quickFix.line, side.quickFix.column);
      await press(page, "Control", ".");
      const rows = await waitForRows(
        page,
        ".action-widget .monaco-list-row",
        (found) => found.some((r) => r.text.includes(side.quickFix.title)),
        "quick fix menu",
      );
      observed.side.quickFixTitles = rows.map((r) => r.text.trim());
      const actionRows = rows.filter((r) => !/^(Quick Fix|More Actions)/.test(r.text.trim()) && r.text.trim());
      const index = actionRows.findIndex((r) => r.text.includes(side.quickFix.title));
      for (let i = 0; i < index; i += 1) {
        await page.keyboard.press("ArrowDown");
      }
      await page.keyboard.press("Enter");
      await press(page, "Control", "Shift", "m");
      observed.side.problemsAfterFix = await waitForRows(
        page,
        ".markers-panel .monaco-list-row",
        (found) => !found.some((r) => r.text.includes(side.quickFix.gone)),
        "quick fix applied",
      );
      observed.side.fixedLine = await editorLines(page);
    }

    if (side.snippet) {
      // The new-profile snippet accepted from the suggest widget (Tab): it must expand with
      // the document's indentation. The lines are read, then the edit is undone.
      step("side by side: snippet");
      // A new empty line above the given one, holding exactly the given indentation.
      await goTo(page, side.snippet.line, 1);
      await page.keyboard.press("Enter");
      await page.keyboard.press("ArrowUp");
      await press(page, "Shift", "End");
      await page.keyboard.type(side.snippet.indent);
      const found = await suggestUntil(page, side.snippet.label);
      const position = found.findIndex((r) => r.text.split("\n")[0].trim() === side.snippet.label);
      for (let i = 0; i < position; i += 1) {
        await page.keyboard.press("ArrowDown");
      }
      await page.keyboard.press("Tab");
      await new Promise((resolve) => setTimeout(resolve, 500));
      await page.keyboard.press("Escape");
      await page.keyboard.press("Escape");
      observed.side.snippetLines = await editorLines(page);
      await press(page, "Control", "z");
      await press(page, "Control", "z");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    if (side.modeline) {
      // A registry with a `$schema=` modeline, which the YAML extension honours first.
      observed.side.modeline = await observeBothServers(page, side.modeline);
      await press(page, "Control", "z");
    }

    step("side by side: syntax error in " + side.syntaxFile);
    await openFile(page, side.syntaxFile);
    await press(page, "Control", "Shift", "m");
    await waitForRows(page, ".markers-panel .monaco-list-row", (r) => r.some((row) => row.text.includes(side.syntaxFile)), "syntax problems");
    await new Promise((resolve) => setTimeout(resolve, side.settleMs ?? 4000));
    observed.side.syntaxProblems = await readRows(page, ".markers-panel .monaco-list-row");
  }

  if (job.toastsSoFar) {
    observed.toastsBeforeFailure = await readToasts(page);
  }

  if (job.failStart) {
    // The server's interpreter loses profreg: one notification naming the cause and the
    // setting, and the status bar says the server is not running.
    step("fail start");
    const fs = await import("node:fs");
    fs.writeFileSync(job.failStart.settingsPath, job.failStart.settingsText);
    const deadline = Date.now() + timeout;
    observed.failToasts = [];
    while (Date.now() < deadline) {
      observed.failToasts = await readToasts(page);
      if (observed.failToasts.some((t) => t.includes("cannot start"))) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, job.failStart.settleMs ?? 5000)); // more toasts would show by now
    observed.failToasts = await readToasts(page);
    observed.statusBar = await statusBarItems(page);
    await page.screenshot({ path: job.failStart.screenshot });
  }

  step("final screenshot");
  await page.screenshot({ path: job.screenshot.replace(/\.png$/, "-final.png") });
  observed.ok = true;
} catch (error) {
  observed.error = String(error && error.stack ? error.stack : error);
  try {
    const pages = await browser.pages();
    if (pages.length) {
      await pages[pages.length - 1].screenshot({ path: job.screenshot });
    }
  } catch {
    // the screenshot of a failure is a best effort
  }
} finally {
  browser.disconnect();
}
process.stdout.write(JSON.stringify(observed) + "\n");
