// Validate JSON documents against the registry schema with ajv (draft 2020-12, strict mode).
// Usage: node ajv_validate.cjs NODE_TOOLS_DIR SCHEMA.json < [{"name": ..., "document": ...}, ...]
// Prints {"strict_error": null | message, "results": {name: {"valid": bool, "errors": [...]}}}.
// If strict mode rejects the schema, the message is reported and the documents are still
// checked with strict mode off, so one schema lint does not hide the validation results.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const [toolsDir, schemaPath] = process.argv.slice(2);
const requireTool = createRequire(path.join(path.resolve(toolsDir), "package.json"));
const Ajv2020 = requireTool("ajv/dist/2020").default;

const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
let strictError = null;
let validate;
try {
  validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
} catch (e) {
  strictError = e.message;
  validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
}

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const results = {};
for (const { name, document } of cases) {
  const valid = validate(document);
  results[name] = { valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath} ${e.keyword}: ${e.message}`) };
}
process.stdout.write(JSON.stringify({ strict_error: strictError, results }));
