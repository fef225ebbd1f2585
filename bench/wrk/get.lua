-- GET the URL given to wrk with the public Host. If DELAY_MS is set,
-- each connection waits that long between requests: a steady, unsaturated load whose
-- latency is not dominated by queueing (used for the "p99 while completions run" goal).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

setup = common.setup
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

function init(args)
  wrk.headers["Host"] = common.host
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
