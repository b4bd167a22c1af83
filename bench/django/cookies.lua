-- wrk script for bench/django.sh: every connection carries its own session.
--
-- wrk has no per-connection hook, so the script runs one connection per
-- thread (wrk -t N -c N) and gives each thread its own cookie: setup() numbers
-- the threads in the main state, init() reads the file of cookies (one
-- "sessionid=..." a line, made through the site's /login) and keeps line
-- number id+1. Gunicorn's sync workers close the connection after every
-- response, so wrk reconnects each time; the cookie stays with the thread.
--
--   wrk -t8 -c8 -s cookies.lua http://127.0.0.1:8101/hit -- cookies.txt

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local path = args[1] or error("usage: wrk ... -s cookies.lua URL -- COOKIE_FILE")
  local cookies = {}
  for line in io.lines(path) do
    if line ~= "" then cookies[#cookies + 1] = line end
  end
  if #cookies <= id then
    error(string.format("%s has %d cookies, thread %d needs one of its own", path, #cookies, id))
  end
  wrk.headers["Cookie"] = cookies[id + 1]
end
