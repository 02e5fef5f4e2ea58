-- Headless Neovim harness for the plugin's end-to-end test:
--   PROFREG_NVIM_JOB='<job JSON>' nvim --headless --clean -c 'luafile nvim_harness.lua'
-- Sets the plugin up, opens a registry and another YAML file, waits for diagnostics,
-- asks for completion, types keys as a user does, runs :checkhealth profreg, and writes
-- what it saw as JSON. It runs in a coroutine on Neovim's main loop (not `nvim -l`), so
-- that keys sent with nvim_input are read and handled as typed ones.
local job = vim.json.decode(vim.env.PROFREG_NVIM_JOB)
local observed = { steps = {} }
local harness = nil -- the coroutine running the steps

local function write_result()
  local file = assert(io.open(job.output, "w"))
  file:write(vim.json.encode(observed))
  file:close()
end

--- Runs the harness on until its next settle(); a failure outside run()'s xpcall ends Neovim.
local function resume_harness()
  local ok, err = coroutine.resume(harness)
  if not ok then
    observed.error = err
    write_result()
    vim.cmd("qall!")
  end
end

--- Gives the main loop `ms` milliseconds (typed keys, LSP replies, timers), then goes on.
local function settle(ms)
  vim.defer_fn(resume_harness, ms)
  coroutine.yield()
end

--- Waits on the main loop until `done()` holds, at most `ms` milliseconds.
local function settle_until(ms, done)
  local start = vim.uv.now()
  while not done() do
    if vim.uv.now() - start > ms then
      return false
    end
    settle(50)
  end
  return true
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

--- Whether vim.lsp.completion is on for a buffer (it adds a CompleteDone autocommand there).
local function lsp_completion_enabled(buf)
  local group = "nvim.lsp.completion_" .. buf
  local ok_group, autocmds = pcall(vim.api.nvim_get_autocmds, { group = group, event = "CompleteDone" })
  return ok_group and #autocmds > 0
end

-- What a user sees on a buffer both profreg and yamlls serve: yamlls's own diagnostics
-- (stored, to show it really ran), the shown ones, completion labels and hovers by client.
local function observe_both_servers(buf, yaml_ns, complete, hover)
  local profreg = require("profreg")
  local seen = {}
  seen.yamlls_reported = vim.wait(job.timeout_ms, function()
    return #vim.diagnostic.get(buf, { namespace = yaml_ns }) > 0 and #profreg.clients(buf) == 1
  end, 50)
  vim.wait(1000)
  seen.yamlls_stored = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { namespace = yaml_ns })) do
    table.insert(seen.yamlls_stored, d.message)
  end
  seen.shown = shown_diagnostics(buf)
  vim.api.nvim_buf_set_lines(buf, complete.line, complete.line, false, { complete.indent })
  seen.completions = labels_by_client(vim.lsp.buf_request_sync(buf, "textDocument/completion", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = complete.line, character = #complete.indent },
  }, job.timeout_ms))
  vim.api.nvim_buf_set_lines(buf, complete.line, complete.line + 1, false, {})
  seen.hovers = {}
  for client_id, response in pairs(vim.lsp.buf_request_sync(buf, "textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = hover,
  }, job.timeout_ms) or {}) do
    if response.result then
      local client = vim.lsp.get_client_by_id(client_id)
      table.insert(seen.hovers, client and client.name or tostring(client_id))
    end
  end
  return seen
end

-- The new-profile snippet chosen from the completion menu as a user does, in insert mode:
-- `o` below `profiles:`, the indentation, then <C-x><C-o> (omnifunc) or
-- vim.lsp.completion.get(), <C-n> down to the item if needed, <C-y> to accept, <Esc>.
-- The buffer is then written, for the test to parse it and run `profreg validate` on it.
local function type_snippet(way, back_to)
  local seen = { keys = way.keys }
  vim.cmd.edit(vim.fn.fnameescape(way.file))
  local buf = vim.api.nvim_get_current_buf()
  local profreg = require("profreg")
  seen.attached = settle_until(job.timeout_ms, function()
    return profreg.clients(buf)[1] ~= nil
  end)
  settle(1000)
  seen.completeopt = vim.bo[buf].completeopt
  seen.omnifunc = vim.bo[buf].omnifunc
  seen.lsp_completion_enabled = lsp_completion_enabled(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local profiles_line = nil
  for i, line in ipairs(lines) do
    if line == "profiles:" then
      profiles_line = i
    end
  end
  vim.api.nvim_win_set_cursor(0, { profiles_line, 0 })
  vim.api.nvim_input("o" .. way.indent .. way.keys)
  seen.menu = settle_until(job.timeout_ms, function()
    return #vim.fn.complete_info({ "items" }).items > 0
  end)
  local info = vim.fn.complete_info({ "items", "selected" })
  seen.menu_items = {}
  local wanted = nil
  for i, item in ipairs(info.items) do
    table.insert(seen.menu_items, item.abbr ~= "" and item.abbr or item.word)
    if (item.abbr ~= "" and item.abbr or item.word) == way.label then
      wanted = i - 1
    end
  end
  seen.selected = info.selected
  if wanted ~= nil then
    local steps = wanted - info.selected
    vim.api.nvim_input(string.rep("<C-n>", steps) .. "<C-y>")
    seen.expanded = settle_until(job.timeout_ms, function()
      return vim.snippet.active()
    end)
    settle(300)
    vim.api.nvim_input("<Esc>")
    settle(300)
    if vim.snippet.active() then
      vim.snippet.stop()
    end
  end
  seen.mode = vim.api.nvim_get_mode().mode
  seen.lines = vim.api.nvim_buf_get_lines(buf, profiles_line, profiles_line + 8, false)
  vim.cmd("silent write")
  -- the edited buffer, as the server judges it
  settle(1500)
  seen.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(seen.diagnostics, { line = d.lnum, code = d.code, message = d.message })
  end
  vim.cmd.buffer(back_to)
  return seen
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
  if job.expect_client then
    vim.wait(job.timeout_ms, function()
      return profreg.clients(bufnr)[1] ~= nil
    end, 50)
  end
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
  observed.lsp_completion_enabled = lsp_completion_enabled(bufnr)
  observed.completeopt = vim.bo[bufnr].completeopt

  if job.snippets then
    observed.snippets = {}
    for _, way in ipairs(job.snippets) do
      table.insert(observed.snippets, type_snippet(way, bufnr))
    end
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
    observed.side = observe_both_servers(side, yaml_ns, job.side_complete, job.side_hover)
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

    -- A registry whose modeline names the schema: yamlls validates it by the modeline
    -- (no yaml.schemas entry matches its name), and still steps back there.
    if job.side_modeline then
      local spec = job.side_modeline
      vim.cmd.edit(vim.fn.fnameescape(spec.file))
      local marked = vim.api.nvim_get_current_buf()
      vim.lsp.buf_attach_client(marked, yaml_id)
      local seen = observe_both_servers(marked, yaml_ns, spec.complete, spec.hover)
      observed.side_modeline = seen
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

harness = coroutine.create(function()
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
end)
vim.schedule(resume_harness)
