-- Headless Neovim harness for the plugin's end-to-end test:
--   nvim --clean -l nvim_harness.lua '<job JSON>'
-- Sets the plugin up, opens a registry and another YAML file, waits for diagnostics,
-- asks for completion, runs :checkhealth profreg, and writes what it saw as JSON.
local job = vim.json.decode(arg[1])
local observed = { steps = {} }

local function write_result()
  local file = assert(io.open(job.output, "w"))
  file:write(vim.json.encode(observed))
  file:close()
end

local function run()
  vim.opt.runtimepath:prepend(job.plugin)
  vim.cmd("filetype on")
  local profreg = require("profreg")
  profreg.setup(vim.tbl_extend("force", job.setup, { registration = job.registration }))
  observed.mode = profreg.mode

  vim.cmd.edit(vim.fn.fnameescape(job.file))
  local bufnr = vim.api.nvim_get_current_buf()
  observed.filetype = vim.bo[bufnr].filetype
  observed.diagnostics_arrived = vim.wait(job.timeout_ms, function()
    return #vim.diagnostic.get(bufnr) >= job.min_diagnostics
  end, 50)
  -- A later publish would replace the set: give it a moment, then read the final one.
  vim.wait(500)
  observed.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(observed.diagnostics, {
      line = d.lnum,
      col = d.col,
      code = d.code,
      severity = d.severity,
      source = d.source,
      message = d.message,
    })
  end
  observed.clients = #profreg.clients(bufnr)

  if job.complete then
    local line, prefix = job.complete.line, job.complete.prefix
    vim.api.nvim_buf_set_lines(bufnr, line, line + 1, false, { prefix })
    local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = { line = line, character = #prefix },
    }, job.timeout_ms)
    observed.completions = {}
    for _, response in pairs(responses or {}) do
      local items = response.result and (response.result.items or response.result) or {}
      for _, item in ipairs(items) do
        table.insert(observed.completions, item.label)
      end
      observed.completion_error = response.err and tostring(response.err.message) or nil
    end
  end

  if job.other_file then
    vim.cmd.edit(vim.fn.fnameescape(job.other_file))
    local other = vim.api.nvim_get_current_buf()
    vim.wait(1500)
    observed.other_filetype = vim.bo[other].filetype
    observed.other_clients = #profreg.clients(other)
    observed.other_diagnostics = #vim.diagnostic.get(other)
    vim.cmd.buffer(bufnr)
  end

  if job.glob_file then
    -- Served by its name alone (a legacy flat file has no registry keys to detect).
    vim.cmd.edit(vim.fn.fnameescape(job.glob_file))
    local named = vim.api.nvim_get_current_buf()
    vim.wait(job.timeout_ms, function()
      return #vim.diagnostic.get(named) > 0
    end, 50)
    observed.glob_clients = #profreg.clients(named)
    observed.glob_codes = {}
    for _, d in ipairs(vim.diagnostic.get(named)) do
      table.insert(observed.glob_codes, d.code)
    end
    vim.cmd.buffer(bufnr)
  end

  -- :ProfregRestart gives the buffer a new client, which publishes diagnostics again.
  local before = profreg.clients(bufnr)[1]
  vim.cmd("ProfregRestart")
  observed.restarted = vim.wait(job.timeout_ms, function()
    local now = profreg.clients(bufnr)[1]
    return now ~= nil and before ~= nil and now.id ~= before.id and #vim.diagnostic.get(bufnr) > 0
  end, 50)

  vim.cmd("checkhealth profreg")
  observed.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  observed.error = err
end
local get = vim.lsp.get_clients or vim.lsp.get_active_clients
for _, client in ipairs(get()) do
  client.stop(true)
end
vim.wait(2000, function()
  return #get() == 0
end, 50)
write_result()
vim.cmd("qall!")
