-- wrk script: POST add-item with a random user's token and a random product, 1 unit each.
-- args: tokens_file users products path. products = 1 is the hot scenario (one product).
local tokens, path, products = {}, "/", 1

function init(args)
  local users = tonumber(args[2])
  for line in io.lines(args[1]) do
    if #tokens >= users then break end
    tokens[#tokens + 1] = line
  end
  products, path = tonumber(args[3]), args[4]
  -- a distinct seed per thread, so that threads do not replay the same sequence
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local body = string.format('{"product_id": %d, "quantity": 1}', math.random(1, products))
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d,'
      .. ' "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
