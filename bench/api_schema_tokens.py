#!/usr/bin/env python3
"""Makes one user and one API token per role on a running SafetyNet server.

Used by bench/api_schema.sh. It signs in as the administrator through the login
form, creates a user of every other role on the users page (each with its
region scope), signs in as each user and makes a token from that session with
POST /api/v1/tokens (the way an integrating system gets one). Prints one line
per role, "ROLE TOKEN", on standard output.

    api_schema_tokens.py BASE_URL ADMIN_USER ADMIN_PASSWORD ROLE=SCOPE...

Only the standard library is used.
"""

import http.cookiejar
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Session:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.status, r.read().decode("utf-8")

    def post(self, path, data=None, json_body=None, headers=None):
        h = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode(data or {}).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=body, headers=h, method="POST")
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def csrf(self, path):
        _, page = self.get(path)
        m = CSRF.search(page)
        if not m:
            sys.exit(f"no CSRF token on {path}")
        return m.group(1)

    def login(self, user, password):
        token = self.csrf("/login")
        status, page = self.post("/login", {"username": user, "password": password, "csrf": token})
        # A good login redirects to the front page, which the opener follows.
        if status != 200 or 'action="/login"' in page:
            sys.exit(f"login as {user} failed ({status})")

    def make_token(self, name):
        token = self.csrf("/account")
        status, body = self.post(
            "/api/v1/tokens",
            json_body={"name": name, "expires_in_days": 1},
            headers={"X-CSRF-Token": token},
        )
        if status != 201:
            sys.exit(f"making token {name} failed ({status}): {body}")
        return json.loads(body)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    base, admin, admin_password = sys.argv[1:4]
    roles = [a.split("=", 1) for a in sys.argv[4:]]
    root = Session(base)
    root.login(admin, admin_password)
    for role, scope in roles:
        if role == "administrator" and scope == "":
            continue
        user = f"fuzz.{role}"
        password = "Fz-" + secrets.token_hex(12)
        csrf = root.csrf("/users")
        status, page = root.post(
            "/users", {"csrf": csrf, "username": user, "password": password, "role": role, "scope": scope}
        )
        if status != 200 or f"{user} ✓" not in page:
            sys.exit(f"creating user {user} ({role}, scope {scope!r}) failed ({status})")
        s = Session(base)
        s.login(user, password)
        made = s.make_token(f"schema run {role}")
        t = made["token"]
        if t["role"] != role or t["scope"] != scope:
            sys.exit(f"token of {user} has role {t['role']} scope {t['scope']!r}, not {role} {scope!r}")
        print(role, made["secret"])
    # The administrator of the whole country: the one made by --create-admin.
    if any(r == "administrator" and s == "" for r, s in roles):
        made = root.make_token("schema run administrator")
        print("administrator", made["secret"])


if __name__ == "__main__":
    main()
