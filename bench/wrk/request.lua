-- POST /v1/password-resets for CLIENT_ID with a fresh (unknown) address and client address
-- per request: every request counts the three rate limits and stores one job, like a real
-- one (the answer, 202, is the same for every account by design).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local client_id = os.getenv("CLIENT_ID") or "benchco-web"
local n = 0

function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/password-resets"
  wrk.headers["Host"] = common.host
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local body = string.format('{"client_id":"%s","email":"load%d-%d@benchco.example.com"}',
    client_id, id, n)
  wrk.headers["X-Forwarded-For"] = common.client_ip(id, n)
  return wrk.format(nil, nil, nil, body)
end
