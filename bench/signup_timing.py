# Usage: python3 bench/signup_timing.py target/debug/chatpass [rounds]
# Times POST /api/signup for new emails and for an existing (proven) email, and
# POST /api/forgot_password for an unknown and a known email, alternating, against one
# chatpass binary; prints medians and the ratios (1.0: nothing to tell them apart by).
import json, os, re, subprocess, sys, tempfile, time, urllib.request, urllib.parse, statistics, glob
binary = os.path.abspath(sys.argv[1]); rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
d = tempfile.mkdtemp()
env = dict(PATH=os.environ["PATH"], RUST_LOG="warn", LEPTOS_SITE_ADDR="127.0.0.1:0",
           DATABASE_URL=f"sqlite://{d}/chatpass.db", CHATPASS_SIGNUPS_PER_IP="100000", CHATPASS_RESETS_PER_IP="100000",
           LEPTOS_SITE_ROOT=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "site"))
env["RUST_LOG"] = "info"
p = subprocess.Popen([binary, "serve"], cwd=d, env=env, stdout=subprocess.PIPE, text=True)
for line in p.stdout:
    m = re.search(r"listening on http://(\S+)", line)
    if m: base = "http://" + m.group(1); break
def post(path, form):
    req = urllib.request.Request(base + path, data=urllib.parse.urlencode(form).encode(),
        headers={"origin": base, "accept": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as r: body = r.read(); code = r.status
    except urllib.error.HTTPError as e: body = e.read(); code = e.code
    return code, body, time.perf_counter() - t
PW = "correct horse battery staple"
post("/api/signup", {"email": "ann@example.com", "password": PW})
time.sleep(0.5)
tok = None
for f in sorted(glob.glob(d + "/outbox/*.eml")):
    m = re.search(r"/verify\?token=(\S+)", open(f).read()); tok = m and m.group(1)
assert post("/api/verify_email", {"token": tok})[0] == 200
new, old = [], []
for i in range(rounds):
    c1, b1, t1 = post("/api/signup", {"email": f"new{i}@example.com", "password": PW})
    c2, b2, t2 = post("/api/signup", {"email": "ann@example.com", "password": PW})
    assert (c1, b1) == (c2, b2) == (202, b'{"status":"check_your_inbox"}'), (c1, b1, c2, b2)
    new.append(t1 * 1000); old.append(t2 * 1000)
unknown, known = [], []
for i in range(rounds):
    # ABBA order: the request after a known email's one waits a little for that request's
    # background write; alternating which goes first spreads that over both.
    if i % 2 == 0:
        c1, b1, t1 = post("/api/forgot_password", {"email": f"nobody{i}@example.com"})
        c2, b2, t2 = post("/api/forgot_password", {"email": "ann@example.com"})
    else:
        c2, b2, t2 = post("/api/forgot_password", {"email": "ann@example.com"})
        c1, b1, t1 = post("/api/forgot_password", {"email": f"nobody{i}@example.com"})
    assert (c1, b1) == (c2, b2) == (202, b'{"status":"check_your_inbox"}'), (c1, b1, c2, b2)
    unknown.append(t1 * 1000); known.append(t2 * 1000)
p.terminate(); p.wait()
print(f"rounds={rounds} new email: median {statistics.median(new):.1f} ms (p10 {sorted(new)[rounds//10]:.1f}, p90 {sorted(new)[rounds*9//10]:.1f}); "
      f"existing email: median {statistics.median(old):.1f} ms (p10 {sorted(old)[rounds//10]:.1f}, p90 {sorted(old)[rounds*9//10]:.1f}); "
      f"ratio existing/new {statistics.median(old)/statistics.median(new):.2f}")
print(f"rounds={rounds} forgot, unknown email: median {statistics.median(unknown):.2f} ms; "
      f"known email: median {statistics.median(known):.2f} ms; "
      f"ratio known/unknown {statistics.median(known)/statistics.median(unknown):.2f}")
