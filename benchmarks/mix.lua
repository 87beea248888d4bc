-- A varied mix: each request the next path of BENCH_PATHS (one per line), each wrk thread
-- starting at its own place in the list, so that no two requests in a row are the same.
dofile(os.getenv("BENCH_LUA_DIR") .. "/latency.lua")

local paths = {}
local next_path = 1

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + #tostring({}))
  next_path = math.random(#paths)
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end
