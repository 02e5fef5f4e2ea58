-- :checkhealth profreg
local M = {}

local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local fail = health.error or health.report_error
local info = health.info or health.report_info

function M.check()
  start("profreg")
  if vim.fn.has("nvim-0.8") == 1 then
    local v = vim.version()
    ok(string.format("Neovim %d.%d.%d", v.major, v.minor, v.patch))
  else
    fail("Neovim 0.8 or later is needed")
  end

  local profreg = require("profreg")
  if profreg.options == nil then
    warn('setup() has not been called: add require("profreg").setup({}) to your config')
    return
  end
  ok("setup() called; servers are registered with " .. (profreg.mode == "config" and "vim.lsp.config/vim.lsp.enable" or "vim.lsp.start"))

  local cmd = profreg.command(profreg.options)
  local exe = cmd[1]
  if vim.fn.executable(exe) == 1 then
    ok("server command: " .. table.concat(cmd, " ") .. " (" .. vim.fn.exepath(exe) .. ")")
    local probe = profreg.version_command(cmd)
    if probe then
      local out = vim.fn.system(probe)
      if vim.v.shell_error == 0 then
        ok("server version: " .. vim.trim(out))
      else
        fail("`" .. table.concat(probe, " ") .. "` failed: " .. vim.trim(out))
      end
    end
  else
    fail("server command not found: " .. exe, {
      "pip install profreg (or pipx install profreg)",
      'or setup({ python = "/path/to/venv/bin/python" }) / setup({ cmd = { ... } })',
    })
  end

  -- The buffer :checkhealth was called from (its own health:// buffer is current now).
  local bufnr = profreg.last_buffer
  if bufnr == nil or not vim.api.nvim_buf_is_valid(bufnr) then
    info("no buffer to check (open a registry YAML file, then run :checkhealth profreg)")
    return
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  local label = string.format("buffer %d (%s)", bufnr, name ~= "" and vim.fn.fnamemodify(name, ":~:.") or "[No Name]")
  local clients = profreg.clients(bufnr)
  if #clients > 0 then
    ok(label .. ": attached (client id " .. clients[1].id .. ")")
  elseif not vim.tbl_contains(profreg.options.filetypes, vim.bo[bufnr].filetype) then
    info(label .. ": not attached: its filetype is '" .. vim.bo[bufnr].filetype .. "', not one of the served filetypes")
  elseif not profreg.serves(bufnr) then
    info(label .. ": not attached: not a registry by its name (`patterns`) or its content")
  else
    local usable, message = profreg.check_server()
    if usable then
      warn(label .. ": a registry, but no server is attached (see :LspLog)")
    else
      fail(label .. ": not attached: " .. message)
    end
  end
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  for _, other in ipairs(get({ bufnr = bufnr })) do
    if other.name ~= profreg.name and vim.tbl_contains(profreg.options.yamlls.names, other.name) then
      if profreg.options.yamlls.coordinate then
        ok(other.name .. " is attached too: its completion, hover and diagnostics are left out on this buffer")
      else
        warn(other.name .. " is attached too and yamlls.coordinate is off: expect items, hovers and problems twice")
      end
    end
  end
end

return M
