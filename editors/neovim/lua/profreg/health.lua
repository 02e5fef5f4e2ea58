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
    -- `profreg lsp` -> `profreg --version` (also for `python -m profreg lsp`)
    local probe = {}
    for _, part in ipairs(cmd) do
      if part == "lsp" then
        break
      end
      table.insert(probe, part)
    end
    table.insert(probe, "--version")
    local out = vim.fn.system(probe)
    if vim.v.shell_error == 0 then
      ok("server version: " .. vim.trim(out))
    else
      fail("`" .. table.concat(probe, " ") .. "` failed: " .. vim.trim(out))
    end
  else
    fail("server command not found: " .. exe, {
      "pip install profreg (or pipx install profreg)",
      'or setup({ python = "/path/to/venv/bin/python" }) / setup({ cmd = { ... } })',
    })
  end

  local bufnr = vim.api.nvim_get_current_buf()
  local clients = profreg.clients(bufnr)
  if #clients > 0 then
    ok("attached to the current buffer (client id " .. clients[1].id .. ")")
  else
    info("not attached to the current buffer (it is not a registry YAML file, or none is open)")
  end
end

return M
