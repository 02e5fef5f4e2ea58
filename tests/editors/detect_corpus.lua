-- nvim --clean -l detect_corpus.lua PLUGIN_DIR FILE... : prints {"FILE": looks_like_registry} as JSON.
vim.opt.runtimepath:prepend(arg[1])
local detect = require("profreg.detect")
local result = {}
for i = 2, #arg do
  result[arg[i]] = detect.looks_like_registry(vim.fn.readfile(arg[i]))
end
io.stdout:write(vim.json.encode(result))
