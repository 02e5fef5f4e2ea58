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

local function labels_by_client(responses)
  local out = {}
  for client_id, response in pairs(responses or {}) do
    local client = vim.lsp.get_client_by_id(client_id)
    local items = response.result and (response.result.items or response.result) or {}
    local labels = {}
    for _, item in ipairs(items) do
      table.insert(labels, item.label)
    end
    out[client and client.name or tostring(client_id)] = labels
  end
  return out
end

-- What the user sees: the diagnostics of the namespaces that are shown on the buffer.
local function shown_diagnostics(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if vim.diagnostic.is_enabled({ bufnr = bufnr, ns_id = d.namespace }) then
      table.insert(out, { line = d.lnum, message = d.message, source = d.source, code = d.code })
    end
  end
  return out
end

local function run()
  vim.opt.runtimepath:prepend(job.plugin)
  vim.cmd("filetype on")
  observed.notifications = {}
  local notify = vim.notify
  vim.notify = function(message, level, ...)
    table.insert(observed.notifications, { message = message, level = level })
    return notify(message, level, ...)
  end
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

  if job.snippet then
    -- The new-profile snippet, accepted as vim.lsp.completion accepts it: the typed word is
    -- removed and the item's text goes through vim.snippet.expand (which indents every line
    -- after the first by the cursor line's indentation).
    local completion_group = "nvim.lsp.completion_" .. bufnr
    local ok_group, autocmds = pcall(vim.api.nvim_get_autocmds, { group = completion_group, event = "CompleteDone" })
    observed.lsp_completion_enabled = ok_group and #autocmds > 0
    local saved = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    local line, indent = job.snippet.line, job.snippet.indent
    vim.api.nvim_buf_set_lines(bufnr, line, line, false, { indent })
    local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/completion", {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = { line = line, character = #indent },
    }, job.timeout_ms)
    local item
    for _, response in pairs(responses or {}) do
      for _, candidate in ipairs(response.result and (response.result.items or response.result) or {}) do
        if candidate.label == job.snippet.label then
          item = candidate
        end
      end
    end
    observed.snippet_item = item
    if item then
      -- the cursor after the indentation, as in insert mode
      vim.o.virtualedit = "onemore"
      vim.api.nvim_win_set_cursor(0, { line + 1, #indent })
      vim.snippet.expand(item.textEdit.newText)
      vim.snippet.stop()
      vim.cmd("stopinsert")
      observed.snippet_lines = vim.api.nvim_buf_get_lines(bufnr, line, line + 8, false)
      -- the edited buffer, as the server judges it
      vim.wait(1500)
      observed.snippet_diagnostics = {}
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        table.insert(observed.snippet_diagnostics, { line = d.lnum, code = d.code, message = d.message })
      end
    end
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, saved)
  end

  if job.side_file then
    -- yamlls on the same registry buffer, with the profreg schema mapped onto it.
    vim.cmd.edit(vim.fn.fnameescape(job.side_file))
    local side = vim.api.nvim_get_current_buf()
    local yaml_id = vim.lsp.start({
      name = "yamlls",
      cmd = job.yamlls_cmd,
      root_dir = vim.fs.dirname(job.side_file),
      settings = {
        yaml = {
          validate = true, hover = true, completion = true, yamlVersion = "1.2",
          schemaStore = { enable = false },
          schemas = { [job.schema] = { "*profiles*.yaml" } },
        },
      },
    }, { bufnr = side })
    local yaml_ns = vim.lsp.diagnostic.get_namespace(yaml_id)
    -- yamlls really runs and reports (its diagnostics are stored, only not shown).
    observed.side_yamlls_reported = vim.wait(job.timeout_ms, function()
      return #vim.diagnostic.get(side, { namespace = yaml_ns }) > 0 and #profreg.clients(side) == 1
    end, 50)
    vim.wait(1000)
    observed.side_yamlls_stored = {}
    for _, d in ipairs(vim.diagnostic.get(side, { namespace = yaml_ns })) do
      table.insert(observed.side_yamlls_stored, d.message)
    end
    observed.side_shown = shown_diagnostics(side)
    local at = job.side_complete
    vim.api.nvim_buf_set_lines(side, at.line, at.line, false, { at.indent })
    observed.side_completions = labels_by_client(vim.lsp.buf_request_sync(side, "textDocument/completion", {
      textDocument = { uri = vim.uri_from_bufnr(side) },
      position = { line = at.line, character = #at.indent },
    }, job.timeout_ms))
    vim.api.nvim_buf_set_lines(side, at.line, at.line + 1, false, {})
    local hovers = vim.lsp.buf_request_sync(side, "textDocument/hover", {
      textDocument = { uri = vim.uri_from_bufnr(side) },
      position = job.side_hover,
    }, job.timeout_ms)
    observed.side_hovers = {}
    for client_id, response in pairs(hovers or {}) do
      if response.result then
        local client = vim.lsp.get_client_by_id(client_id)
        table.insert(observed.side_hovers, client and client.name or tostring(client_id))
      end
    end
    if job.side_fix then
      -- A quick fix as Neovim applies one (vim.lsp.util.apply_workspace_edit); its problem goes.
      local typo
      for _, d in ipairs(vim.diagnostic.get(side)) do
        if d.source == "profreg" and d.message:find(job.side_fix.message, 1, true) then
          typo = d
        end
      end
      if typo then
        local actions = vim.lsp.buf_request_sync(side, "textDocument/codeAction", {
          textDocument = { uri = vim.uri_from_bufnr(side) },
          range = typo.user_data.lsp.range,
          context = { diagnostics = { typo.user_data.lsp } },
        }, job.timeout_ms)
        for client_id, response in pairs(actions or {}) do
          for _, action in ipairs(response.result or {}) do
            if action.title == job.side_fix.title then
              local client = vim.lsp.get_client_by_id(client_id)
              vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
              observed.side_fix_applied = true
            end
          end
        end
        observed.side_fix_gone = vim.wait(job.timeout_ms, function()
          for _, d in ipairs(vim.diagnostic.get(side)) do
            if d.message:find(job.side_fix.message, 1, true) and d.source == "profreg" then
              return false
            end
          end
          return true
        end, 50)
        observed.side_fixed_lines = vim.api.nvim_buf_get_lines(side, 0, -1, false)
      end
    end

    -- yamlls still serves a YAML buffer profreg does not serve.
    if job.side_other then
      vim.cmd.edit(vim.fn.fnameescape(job.side_other))
      local other = vim.api.nvim_get_current_buf()
      vim.lsp.buf_attach_client(other, yaml_id)
      vim.wait(job.timeout_ms, function()
        return #vim.diagnostic.get(other, { namespace = yaml_ns }) > 0
      end, 50)
      observed.side_other_shown = shown_diagnostics(other)
    end
    vim.cmd.buffer(bufnr)
  end

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

  if job.restart ~= false then
    -- :ProfregRestart gives the buffer a new client, which publishes diagnostics again.
    local before = profreg.clients(bufnr)[1]
    vim.cmd("ProfregRestart")
    observed.restarted = vim.wait(job.timeout_ms, function()
      local now = profreg.clients(bufnr)[1]
      return now ~= nil and before ~= nil and now.id ~= before.id and #vim.diagnostic.get(bufnr) > 0
    end, 50)
  end
  if job.second_file then
    vim.cmd.edit(vim.fn.fnameescape(job.second_file))
    vim.wait(1000)
    vim.cmd.buffer(bufnr)
  end

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
