-- wrk script: POST /v1/token with a different site user's token on each request, cycling through the
-- tokens in the file named by TOKENS_FILE (made by make-caller-tokens.py), so no caller token repeats
-- back to back. Counts non-200 answers so a run that "succeeds" with 401s is caught.
local tokens = {}
local index = 0
local bad = 0

function init(args)
  local path = os.getenv("TOKENS_FILE") or "tokens.txt"
  for line in io.lines(path) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  if #tokens == 0 then error("no tokens in " .. path) end
  index = math.random(#tokens)
end

function request()
  index = index % #tokens + 1
  return wrk.format("POST", "/v1/token", { ["Authorization"] = "Bearer " .. tokens[index], ["Content-Length"] = "0" }, "")
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx-or-3xx: %d\n", summary.errors.status))
  io.write(string.format("p50_us %d p90_us %d p99_us %d max_us %d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
