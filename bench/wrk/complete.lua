-- POST /v1/password-resets/{token}/complete with PASSWORD typed twice.
--   TOKENS_FILE  one token a line
--   ONE_USE=1    each token is sent once (thread T takes tokens T, T+THREADS, …): the stream
--                of successful completions; otherwise tokens are reused round-robin (the
--                JS-rule scenario: the policy refuses the password, so tokens survive)
--   THREADS      wrk's -t (to split the tokens)
-- Prints the count of answers by kind at the end.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local password = os.getenv("PASSWORD") or "violet-Harbor-92"
local one_use = os.getenv("ONE_USE") == "1"
local threads = tonumber(os.getenv("THREADS") or "1")
local tokens = {}
local next_token = 1
local n = 0
-- Globals, so done() can read them from each thread with thread:get.
ok, refused, other, exhausted = 0, 0, 0, 0

function init(args)
  local all = common.read_lines(os.getenv("TOKENS_FILE"))
  for i, token in ipairs(all) do
    if not one_use or (i - 1) % threads == id then table.insert(tokens, token) end
  end
  wrk.method = "POST"
  wrk.headers["Host"] = common.host
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = string.format('{"password":"%s","password_confirmation":"%s"}', password, password)
end

function request()
  n = n + 1
  local token = tokens[next_token]
  if token == nil then
    -- Out of one-use tokens: keep the connection busy with a link that does not exist,
    -- counted apart so the report says so.
    token = "exhausted"
    exhausted = exhausted + 1
  else
    next_token = next_token + 1
    if not one_use and next_token > #tokens then next_token = 1 end
  end
  wrk.headers["X-Forwarded-For"] = common.client_ip(id, n)
  return wrk.format(nil, "/v1/password-resets/" .. token .. "/complete")
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 422 and body:find("password%-policy") then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("completions: ok=%d policy_refused=%d other=%d exhausted=%d\n",
    common.total("ok"), common.total("refused"), common.total("other"),
    common.total("exhausted")))
end
