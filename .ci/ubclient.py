#!/usr/bin/env python3
"""A minimal UnityBase client for the smoke test: the UB handshake, then signed calls.

usage: ubclient.py BASE_URL USER PASSWORD [METHOD PATH [BODY]]...
Logs in, runs each request with the session signature, prints each response body.
"""
import hashlib, json, sys, time, urllib.error, urllib.request, urllib.parse, zlib

def sha(s): return hashlib.sha256(s.encode()).hexdigest()

def call(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, method=method, data=body.encode() if body is not None else None,
                                 headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return r.read().decode()

def login(base, user, pwd, path="/"):
    q = lambda **kw: base + "/auth?" + urllib.parse.urlencode(kw)
    nonce = json.loads(call(q(AUTHTYPE="UB", userName=user), "POST", ""))
    server_nonce = nonce["result"]
    client_nonce = sha(time.strftime("%Y-%m-%dT%H:%M", time.gmtime()))
    app = "/" if path == "/" else path.strip("/").lower()
    proof = sha(app + server_nonce + client_nonce + user.lower() + sha("salt" + pwd))
    params = dict(AUTHTYPE="UB", userName=user, clientNonce=client_nonce, password=proof)
    if "connectionID" in nonce:
        params["connectionID"] = nonce["connectionID"]
    ans = json.loads(call(q(**params), "POST", ""))
    json.loads(ans["uData"])  # uData is a JSON string
    return ans["result"], sha("salt" + pwd)

def sign(result, secret):
    sid = int(result.split("+")[0])
    t = "%08x" % int(time.time())
    crc = zlib.crc32((result + secret + t).encode()) & 0xffffffff
    return "%08x%s%08x" % (sid, t, crc)

def main(argv):
    base, user, pwd, rest = argv[1].rstrip("/"), argv[2], argv[3], argv[4:]
    result, secret = login(base, user, pwd)
    while rest:
        method, path = rest[0], rest[1]
        body = rest[2] if method == "POST" else None
        rest = rest[3:] if method == "POST" else rest[2:]
        h = {"Authorization": "UB " + sign(result, secret), "Content-Type": "application/json"}
        print(call(base + path, method, body, h))

if __name__ == "__main__":
    try:
        main(sys.argv)
    except urllib.error.HTTPError as e:
        sys.exit("HTTP %d %s" % (e.code, e.read().decode(errors="replace")))
