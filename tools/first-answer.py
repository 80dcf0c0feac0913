#!/usr/bin/python3
"""Time from process start to the first /comment answer on the console.
usage: tools/first-answer.py BINARY DATA_DIR [model]

Starts `BINARY run --data-dir DATA_DIR` (the directory is removed first: a fresh machine),
without Discord tokens so that it serves the console, sends one /comment at once and
prints how long the answer took (issue 15: the first answer before and after pretrained
models)."""
import subprocess, sys, time, os, select, shutil
binary, data = sys.argv[1], sys.argv[2]
model = sys.argv[3] if len(sys.argv) > 3 else "char"
shutil.rmtree(data, ignore_errors=True)
env = dict(os.environ)
for k in ["DISCORD_TOKEN", "DISCORD_APP_ID", "REDDIT_CLIENT_ID"]:
    env.pop(k, None)
t0 = time.time()
p = subprocess.Popen([binary, "run", "--data-dir", data], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
fd = p.stdout.fileno()
p.stdin.write(f"/comment model:{model} temperature:0.8\n"); p.stdin.flush()
out = ""
deadline = t0 + 900
answer = None
while time.time() < deadline:
    r, _, _ = select.select([p.stdout], [], [], 1)
    if r:
        chunk = os.read(fd, 65536).decode(errors="replace")
        if not chunk:
            break
        out += chunk
        if f"-# {model} v" in out:
            answer = time.time() - t0
            break
p.terminate()
try:
    p.wait(30)
except Exception:
    p.kill()
print(f"first /comment model:{model} answered after {answer:.1f} s" if answer else "no answer", flush=True)
print(out[-1500:])
