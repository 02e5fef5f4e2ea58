-- Side by side with yamlls (yaml-language-server): on the buffers profreg serves, yamlls's
-- completion, hover and diagnostics are left out, so each item, hover and problem shows
-- once and in profreg's words (profreg also reports YAML syntax errors). yamlls keeps
-- serving every other YAML buffer, and keeps its other features (formatting, folding, ...)
-- on registry buffers too.
local M = {}

-- Requests yamlls answers with "nothing" on a buffer profreg serves.
M.deferred_methods = {
  ["textDocument/completion"] = true,
  ["textDocument/hover"] = true,
}

---@param client table a yamlls client
---@param is_served fun(bufnr: integer): boolean
function M.wrap_requests(client, is_served)
  if client._profreg_wrapped then
    return
  end
  client._profreg_wrapped = true
  local original = client.request
  -- Neovim 0.11 calls client:request(method, ...); 0.8-0.10 call client.request(method, ...).
  client.request = function(...)
    local args = { ... }
    local offset = type(args[1]) == "table" and 1 or 0
    local method, handler, bufnr = args[1 + offset], args[3 + offset], args[4 + offset]
    if M.deferred_methods[method] and bufnr and is_served(bufnr) then
      if handler then
        vim.schedule(function()
          handler(nil, nil, { method = method, client_id = client.id, bufnr = bufnr })
        end)
      end
      return true, nil
    end
    return original(...)
  end
end

--- Hides yamlls's diagnostics on one buffer (push and pull namespaces).
---@param client table
---@param bufnr integer
function M.hide_diagnostics(client, bufnr)
  local namespaces = { vim.lsp.diagnostic.get_namespace(client.id) }
  if vim.fn.has("nvim-0.10") == 1 then
    table.insert(namespaces, vim.lsp.diagnostic.get_namespace(client.id, true))
  end
  for _, ns in ipairs(namespaces) do
    if vim.fn.has("nvim-0.10") == 1 then
      vim.diagnostic.enable(false, { bufnr = bufnr, ns_id = ns })
    else
      vim.diagnostic.disable(bufnr, ns)
    end
  end
end

return M
