-- profreg for Neovim: runs the profreg language server (`profreg lsp`) for profile
-- registry YAML buffers, and leaves every other YAML buffer alone.
--
--   require("profreg").setup({})
--
-- Neovim 0.11+: registered with vim.lsp.config / vim.lsp.enable.
-- Neovim 0.8-0.10: started per buffer with vim.lsp.start from a FileType autocommand.
local detect = require("profreg.detect")
local yamlls = require("profreg.yamlls")

local M = {}

M.name = "profreg"

M.defaults = {
  -- Full server command line; nil: `profreg lsp`, or `{python} -m profreg lsp` when `python` is set.
  cmd = nil,
  -- A Python interpreter that has profreg installed (e.g. a virtualenv's bin/python).
  python = nil,
  filetypes = { "yaml" },
  -- Buffers whose file name matches one of these globs are always served.
  patterns = { "*profiles*.yaml", "*profiles*.yml", "*registry*.yaml", "*registry*.yml", "*registries*.yaml", "*registries*.yml" },
  -- Also serve YAML whose content looks like a registry (top-level `registries`, `slug`,
  -- `profiles`, `default_profile_slug`, or a `# profreg` / `$schema=` modeline).
  detect_content = true,
  -- The workspace root is the nearest directory holding one of these (else the file's directory).
  root_markers = { ".git", "pyproject.toml" },
  -- "auto" | "config" (vim.lsp.config + vim.lsp.enable, 0.11+) | "start" (vim.lsp.start).
  registration = "auto",
  settings = {},
  capabilities = nil,
  on_attach = nil,
  -- Neovim 0.11+: turn on vim.lsp.completion for served buffers, so <C-x><C-o> and <C-y>
  -- expand snippets and apply edits; false leaves completion to your plugin (nvim-cmp, ...).
  completion = { enable = true, autotrigger = false },
  -- With yamlls also attached to a registry buffer, leave out its completion, hover and
  -- diagnostics there (profreg serves them, YAML syntax errors included).
  yamlls = { coordinate = true, names = { "yamlls", "yaml-language-server", "yaml_ls" } },
}

---@type table|nil the options setup() was called with, merged over the defaults
M.options = nil

---@param opts table
---@return string[]
function M.command(opts)
  if opts.cmd then
    return opts.cmd
  end
  if opts.python then
    local python = vim.fn.expand(opts.python)
    if python:find("/", 1, true) then
      python = vim.fn.fnamemodify(python, ":p") -- relative to Neovim's working directory
    end
    return { python, "-m", "profreg", "lsp" }
  end
  return { "profreg", "lsp" }
end

---@param opts table
---@return "config"|"start"
function M.registration_mode(opts)
  local native = vim.fn.has("nvim-0.11") == 1 and vim.lsp.config ~= nil and vim.lsp.enable ~= nil
  if opts.registration == "config" then
    if not native then
      error("profreg: registration = 'config' needs Neovim 0.11 or later (vim.lsp.config)")
    end
    return "config"
  elseif opts.registration == "start" then
    return "start"
  end
  return native and "config" or "start"
end

---@param bufnr integer
---@return string
local function root_for(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= "" and vim.fs.dirname(name) or vim.fn.getcwd()
  local found = vim.fs.find(markers, { path = dir, upward = true })[1]
  return found and vim.fs.dirname(found) or dir
end

---@param bufnr integer
---@return table[] the profreg clients attached to the buffer
function M.clients(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get({ bufnr = bufnr, name = M.name })
end

local function is_registry(bufnr)
  return detect.is_registry_buffer(bufnr, M.options)
end

--- `profreg lsp` -> `profreg --version`, `python -m profreg lsp` -> `python -m profreg --version`;
--- nil for a custom command without an `lsp` argument.
---@param cmd string[]
---@return string[]|nil
function M.version_command(cmd)
  local probe = {}
  for _, part in ipairs(cmd) do
    if part == "lsp" then
      table.insert(probe, "--version")
      return probe
    end
    table.insert(probe, part)
  end
  return nil
end

--- Whether the server command can run; else why not, in one line naming the option to change.
---@return boolean ok, string|nil message
function M.check_server()
  if M._server_check then
    return M._server_check.ok, M._server_check.message
  end
  local opts = M.options
  local cmd = M.command(opts)
  local option = opts.cmd and "cmd" or (opts.python and "python" or "cmd")
  local fix = option == "python"
      and 'set `python` in require("profreg").setup({...}) to an interpreter that has profreg installed (pip install profreg)'
    or 'install profreg (pip install profreg), or set `cmd` (or `python`) in require("profreg").setup({...})'
  local message
  if vim.fn.executable(cmd[1]) ~= 1 then
    message = string.format("profreg: the language server cannot start: cannot find `%s`; %s", cmd[1], fix)
  else
    local probe = M.version_command(cmd)
    if probe then
      local out = vim.fn.system(probe)
      if vim.v.shell_error ~= 0 then
        local lines = vim.split(vim.trim(out), "\n")
        local said = lines[#lines] or ""
        for i = #lines, 1, -1 do
          if lines[i]:find("Error") or lines[i]:find("error:") or lines[i]:find("No module") then
            said = lines[i]
            break
          end
        end
        message = string.format("profreg: the language server cannot start: `%s` says \"%s\"; %s",
          table.concat(probe, " "), vim.trim(said), fix)
      end
    end
  end
  M._server_check = { ok = message == nil, message = message }
  return message == nil, message
end

--- Checks the server once for a registry buffer; warns once if it cannot start.
---@return boolean
local function server_usable()
  local ok, message = M.check_server()
  if not ok and not M._warned then
    M._warned = true
    vim.notify(message, vim.log.levels.WARN)
  end
  return ok
end

--- Whether profreg serves a buffer (attached, or about to be).
---@param bufnr integer
---@return boolean
function M.serves(bufnr)
  return M.options ~= nil and vim.api.nvim_buf_is_valid(bufnr) and (M.clients(bufnr)[1] ~= nil or is_registry(bufnr))
end

local function is_yamlls(client)
  return M.options.yamlls.coordinate and vim.tbl_contains(M.options.yamlls.names, client.name)
end

--- With Neovim's default 'completeopt' the first item is inserted as soon as the menu
--- opens; accepting a snippet then replaces that text and Neovim leaves one of its
--- characters behind (broken YAML). So on a served buffer whose 'completeopt' has neither
--- `noinsert` nor `noselect`, the plugin adds `menuone,noinsert` there (buffer-local).
---@param bufnr integer
function M.accept_without_preinsert(bufnr)
  local ok, current = pcall(function()
    return vim.bo[bufnr].completeopt
  end)
  if not ok then
    return -- 'completeopt' is global only before Neovim 0.11
  end
  if current == "" then
    current = vim.o.completeopt
  end
  local flags = vim.split(current, ",", { trimempty = true })
  if vim.tbl_contains(flags, "noinsert") or vim.tbl_contains(flags, "noselect") then
    return
  end
  for _, flag in ipairs({ "menuone", "noinsert" }) do
    if not vim.tbl_contains(flags, flag) then
      table.insert(flags, flag)
    end
  end
  vim.bo[bufnr].completeopt = table.concat(flags, ",")
end

local function on_lsp_attach(args)
  local client = vim.lsp.get_client_by_id(args.data.client_id)
  if client == nil then
    return
  end
  local bufnr = args.buf
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  if client.name == M.name then
    local completion = M.options.completion
    if completion.enable and vim.lsp.completion and vim.lsp.completion.enable then
      vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = completion.autotrigger })
      M.accept_without_preinsert(bufnr)
    end
    for _, other in ipairs(get({ bufnr = bufnr })) do
      if is_yamlls(other) then
        yamlls.hide_diagnostics(other, bufnr)
      end
    end
  elseif is_yamlls(client) then
    yamlls.wrap_requests(client, M.serves)
    if M.serves(bufnr) then
      yamlls.hide_diagnostics(client, bufnr)
    end
  end
end

-- The config handed to vim.lsp.start for one buffer.
local function start_config(bufnr)
  local opts = M.options
  return {
    name = M.name,
    cmd = M.command(opts),
    root_dir = root_for(bufnr, opts.root_markers),
    settings = opts.settings,
    capabilities = opts.capabilities,
    on_attach = opts.on_attach,
  }
end

--- Starts (or reuses) the server for a buffer if it is a registry; returns the client id.
---@param bufnr integer|nil
---@return integer|nil
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if M.options == nil or not is_registry(bufnr) or not server_usable() then
    return nil
  end
  local attached = M.clients(bufnr)[1]
  if attached then
    return attached.id
  end
  return vim.lsp.start(start_config(bufnr), { bufnr = bufnr })
end

local function register_native(opts)
  vim.lsp.config(M.name, {
    cmd = M.command(opts),
    filetypes = opts.filetypes,
    -- Not calling on_dir keeps the server away from YAML that is not a registry.
    root_dir = function(bufnr, on_dir)
      if is_registry(bufnr) and server_usable() then
        on_dir(root_for(bufnr, opts.root_markers))
      end
    end,
    settings = opts.settings,
    capabilities = opts.capabilities,
    on_attach = opts.on_attach,
  })
  vim.lsp.enable(M.name)
end

local function register_autocmd(group, opts)
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

--- Stops the profreg clients and starts them again for the registry buffers.
function M.restart()
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local buffers = {}
  for _, client in ipairs(get({ name = M.name })) do
    for bufnr in pairs(client.attached_buffers or {}) do
      table.insert(buffers, bufnr)
    end
    client.stop()
  end
  local function all_stopped()
    return #get({ name = M.name }) == 0
  end
  -- A busy server gets a few seconds to exit; then it is stopped by force, so that the new
  -- client is not mistaken for the old one.
  if not vim.wait(5000, all_stopped, 20) then
    for _, client in ipairs(get({ name = M.name })) do
      client.stop(true)
    end
    vim.wait(2000, all_stopped, 20)
  end
  for _, bufnr in ipairs(buffers) do
    M.attach(bufnr)
  end
end

---@param opts table|nil see M.defaults
function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- Lists replace the defaults rather than merging index by index.
  for _, key in ipairs({ "cmd", "filetypes", "patterns", "root_markers" }) do
    if opts and opts[key] then
      M.options[key] = opts[key]
    end
  end
  if opts and type(opts.yamlls) == "table" and opts.yamlls.names then
    M.options.yamlls.names = opts.yamlls.names
  end
  M.mode = M.registration_mode(M.options)
  M._server_check, M._warned = nil, nil

  local group = vim.api.nvim_create_augroup("profreg", { clear = true })
  vim.api.nvim_create_autocmd("LspAttach", { group = group, callback = on_lsp_attach })
  -- :checkhealth opens its own buffer; it reports on the buffer the user was in.
  vim.api.nvim_create_autocmd("BufEnter", {
    group = group,
    callback = function(args)
      if vim.bo[args.buf].buftype == "" then
        M.last_buffer = args.buf
      end
    end,
  })
  M.last_buffer = vim.api.nvim_get_current_buf()
  if M.mode == "config" then
    register_native(M.options)
    -- vim.lsp.enable skips a command that is not executable without a word: say it once.
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.options.filetypes,
      callback = function(args)
        if is_registry(args.buf) then
          server_usable()
        end
      end,
    })
  else
    register_autocmd(group, M.options)
  end
  -- A YAML buffer that starts to look like a registry while being typed is picked up then.
  if M.options.detect_content then
    vim.api.nvim_create_autocmd({ "InsertLeave", "TextChanged", "BufWritePost" }, {
      group = group,
      callback = function(args)
        if vim.tbl_contains(M.options.filetypes, vim.bo[args.buf].filetype) and M.clients(args.buf)[1] == nil then
          M.attach(args.buf)
        end
      end,
    })
  end
  vim.api.nvim_create_user_command("ProfregRestart", M.restart, { desc = "Restart the profreg language server" })
end

return M
