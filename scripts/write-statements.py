#!/usr/bin/env python3
# How many SQL statements one write request runs (issue 21, the write
# paths): serves a copy of the benchmark's quick dataset with --dev, which
# makes PocketBase print every statement of its writer and reader pools,
# sends each write scenario of bin/bench once to warm up and once more to
# count, and prints the count per request (-v: the statements too). The
# push worker's statements, when a write wakes it, are counted with the
# write that woke it.
#
#   scripts/write-statements.py bin/hearth hearth [-v]
#   scripts/write-statements.py bin/plainpb plain [-v]
#
# Needs the quick dataset cached by bin/bench ($TMPDIR/hearth-bench-v2-2000-*,
# made by `make bench-quick`); works in $TMPDIR/write-statements-*.
import glob, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request
bin_, kind = sys.argv[1], sys.argv[2]  # kind: hearth|plain
tmp = tempfile.gettempdir()
src = sorted(glob.glob(os.path.join(tmp, 'hearth-bench-v2-2000-*')))[-1]
d = os.path.join(tmp, f'write-statements-{kind}')
shutil.rmtree(d, ignore_errors=True); shutil.copytree(src, d)
s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
addr = f'127.0.0.1:{port}'
log = open(d + '.log', 'w')
hooks = d + '-no-hooks'
os.makedirs(hooks, exist_ok=True)
if kind == 'hearth':
    env = dict(os.environ, HEARTH_HTTP=addr, HEARTH_DATA_DIR=d, HEARTH_RATE_LIMITS='false', HEARTH_HOOKS_DIR=hooks)
    p = subprocess.Popen([bin_, 'serve', '--dev'], env=env, stdout=log, stderr=log)
else:
    p = subprocess.Popen([bin_, 'serve', '--dev', '--http', addr, '--dir', d], stdout=log, stderr=log)
m = json.load(open(d + '/manifest.json'))
ds = m['dataset']
def req(method, path, body, user):
    r = urllib.request.Request(f'http://{addr}{path}', data=json.dumps(body).encode() if body is not None else None, method=method,
        headers={'Authorization': m['tokens'][user], 'Content-Type': 'application/json'})
    try:
        return urllib.request.urlopen(r).status
    except urllib.error.HTTPError as e:
        return e.code, e.read()[:300]
for _ in range(300):
    try:
        urllib.request.urlopen(f'http://{addr}/api/health'); break
    except Exception: time.sleep(0.1)
groups = ds['Small'] + ds['Big']
u = 15; g = u // 10
uid = lambda i: 'u%014d' % i
rsvpu = sorted(int(k) for k in m['rsvps'])[0]; rid = m['rsvps'][str(rsvpu)]
# the q-th (event, user) pair without an RSVP, as bench/load.go's freeRSVP
def free(q):
    s_ = q // 7; e = (s_ // ds['Small']) * groups + s_ % ds['Small']; gg = e % groups
    return 'e%014d' % e, gg * 10 + (e // groups + 3 + q % 7) % 10
ev0 = 'e%014d' % g
cases = [
  ('create-message', 'POST', '/api/collections/messages/records', {'group': 'g%014d' % g, 'body': 'x', **({'author': uid(u)} if kind=='plain' else {})}, u),
  ('toggle-rsvp maybe', 'PATCH', f'/api/collections/rsvps/records/{rid}', {'status': 'maybe'}, rsvpu),
  ('toggle-rsvp going', 'PATCH', f'/api/collections/rsvps/records/{rid}', {'status': 'going'}, rsvpu),
  ('create-rsvp', 'POST', '/api/collections/rsvps/records', {'event': free(0)[0], 'user': uid(free(0)[1]), 'status': 'going'}, free(0)[1]),
  ('update-event', 'PATCH', f'/api/collections/events/records/{ev0}', {'title': 'renamed'}, g * 10),
]
sqlre = re.compile(r'^\[\d')
def lines():
    log.flush(); return open(d + '.log').read().splitlines()
for name, mth, path, body, user in cases:
    req(mth, path, body, user)  # warm (caches, first-time queries)
time.sleep(0.5)
q = 1
for name, mth, path, body, user in cases:
    if name == 'create-rsvp':
        ev, uu = free(q); q += 1; body = {'event': ev, 'user': uid(uu), 'status': 'going'}; user = uu
    before = len(lines()); st = req(mth, path, body, user); time.sleep(0.4)
    new = [l for l in lines()[before:] if sqlre.match(l)]
    print(f'{name:20s} status {st} statements {len(new)}')
    if '-v' in sys.argv:
        for l in new: print('   ', l[:220])
p.terminate(); p.wait()
