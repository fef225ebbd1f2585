-- Shared by the bench/wrk scripts: the public Host, per-thread ids (setup runs once per
-- thread before init) and a client address per request, so the gateway (which trusts
-- loopback as its proxy) sees many clients, as behind a real load balancer.
local M = {}

M.host = os.getenv("PASSGATE_HOST") or "reset.example.test"
M.threads = {}

function M.setup(thread)
  thread:set("id", #M.threads)
  table.insert(M.threads, thread)
end

-- 10.T.X.Y for the n-th request of thread T.
function M.client_ip(id, n)
  return string.format("10.%d.%d.%d", 100 + id, math.floor(n / 250) % 250, n % 250 + 1)
end

function M.read_lines(path)
  local lines = {}
  local file = assert(io.open(path, "r"), "cannot open " .. path)
  for line in file:lines() do
    if line ~= "" then table.insert(lines, line) end
  end
  file:close()
  return lines
end

-- Sums a global counter over the threads' Lua states.
function M.total(name)
  local sum = 0
  for _, t in ipairs(M.threads) do sum = sum + (tonumber(t:get(name)) or 0) end
  return sum
end

return M
