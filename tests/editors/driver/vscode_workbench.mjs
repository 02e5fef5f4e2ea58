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

async function press(page, ...keys) {
  for (const key of keys.slice(0, -1)) {
    await page.keyboard.down(key);
  }
  await page.keyboard.press(keys[keys.length - 1]);
  for (const key of keys.slice(0, -1).reverse()) {
    await page.keyboard.up(key);
  }
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
  await press(page, "Control", "p");
  await page.waitForSelector(".quick-input-widget input", { visible: true });
  await page.keyboard.type(job.file);
  await waitForRows(page, ".quick-input-widget .monaco-list-row", (rows) => rows.some((r) => r.aria.includes(job.file)), "quick open");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.tab[data-resource-name="${job.file}"]`, { timeout });
  await page.waitForSelector(".monaco-editor .view-lines", { visible: true });

  step("problems panel");
  await press(page, "Control", "Shift", "m");
  const problemRow = ".markers-panel .monaco-list-row";
  observed.problems = await waitForRows(page, problemRow, (rows) => rows.filter((r) => /line \d+/i.test(r.aria)).length >= job.minProblems, "problems");

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
    await press(page, "Control", "Space");
    const wanted = job.complete.labels ?? [];
    const rows = await waitForRows(
      page,
      ".suggest-widget.visible .monaco-list-row",
      (found) => wanted.every((label) => found.some((r) => r.aria.split(/[,\s]/)[0] === label || r.text.split("\n")[0].trim() === label)),
      "completion",
    );
    observed.completions = rows.map((r) => r.text.split("\n")[0].trim());
  }

  step("screenshot");
  await page.screenshot({ path: job.screenshot });
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
