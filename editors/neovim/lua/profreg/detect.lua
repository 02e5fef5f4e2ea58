-- Which YAML buffers are profile registries: by file name (globs) or, optionally, by
-- content, with the same rule as the language server (SPEC section 7).
local M = {}

-- Top-level keys (at column 1) that only a registry document starts with.
local REGISTRY_KEYS = { registries = true, slug = true, profiles = true, default_profile_slug = true }

-- How many lines are scanned: registry keys sit at the top of real files.
local SCAN_LINES = 5000

---@param line string
---@return string|nil key the top-level mapping key the line starts, if any
local function top_level_key(line)
  local key, rest = line:match("^([%w_]+)%s*:(.*)$")
  if not key then
    key, rest = line:match("^[\"']([%w_]+)[\"']%s*:(.*)$")
  end
  if key and (rest == "" or rest:match("^%s")) then
    return key
  end
  return nil
end

---@param lines string[] the buffer's first lines
---@return boolean
function M.looks_like_registry(lines)
  local first = lines[1] or ""
  if first:match("^#%s*profreg$") or first:match("^#%s*profreg%s") then
    return true
  end
  if first:find("$schema=", 1, true) and first:find("profile-registry.schema.json", 1, true) then
    return true
  end
  for i = 1, math.min(#lines, SCAN_LINES) do
    local key = top_level_key(lines[i])
    if key and REGISTRY_KEYS[key] then
      return true
    end
  end
  return false
end

---@param path string
---@param globs string[]
---@return boolean
function M.matches_globs(path, globs)
  if path == "" then
    return false
  end
  for _, glob in ipairs(globs) do
    local pattern = vim.fn.glob2regpat(glob)
    if vim.fn.match(path, pattern) >= 0 then
      return true
    end
  end
  return false
end

---@param bufnr integer
---@param opts {filetypes: string[], patterns: string[], detect_content: boolean}
---@return boolean
function M.is_registry_buffer(bufnr, opts)
  if not vim.api.nvim_buf_is_valid(bufnr) or not vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
    return false
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if M.matches_globs(name, opts.patterns) then
    return true
  end
  return opts.detect_content and M.looks_like_registry(vim.api.nvim_buf_get_lines(bufnr, 0, SCAN_LINES, false))
end

return M
