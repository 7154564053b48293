-- wrk script: POST add-item with a random user's token and a random product, 1 unit each.
-- args: tokens_file users products path [first_product]. Products are first_product (default
-- 1) .. first_product + products - 1: products = 1 is a hot scenario (one product).
-- Counts the answers by status and, for a refusal, its error code ("503 busy_try_again").
local tokens, path, products, first = {}, "/", 1, 1
local threads = {}
statuses = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local users = tonumber(args[2])
  for line in io.lines(args[1]) do
    if #tokens >= users then break end
    tokens[#tokens + 1] = line
  end
  products, path, first = tonumber(args[3]), args[4], tonumber(args[5] or "1")
  -- a distinct seed per thread, so that threads do not replay the same sequence
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local product = first + math.random(0, products - 1)
  local body = string.format('{"product_id": %d, "quantity": 1}', product)
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  local key = tostring(status)
  if status >= 300 then
    key = key .. " " .. (body:match('"code"%s*:%s*"([%w_]+)"') or "no code")
  end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  local sums, counted = {}, {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do
      sums[key] = (sums[key] or 0) + n
    end
  end
  for key, n in pairs(sums) do
    counted[#counted + 1] = string.format('"%s": %d', key, n)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d,'
      .. ' "p50_ms": %.2f, "p99_ms": %.2f, "extra": {"statuses": {%s}}}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, table.concat(counted, ", ")))
end
