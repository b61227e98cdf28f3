"""A stand-in for Twilio's REST API: the Conversations Users of a service, on loopback.

Usage: standin.py [CONFIG_JSON]

Binds 127.0.0.1 on a free port and prints one JSON line on stdout once it accepts
connections, {"url": "http://127.0.0.1:PORT"}, and nothing else on stdout. Exits when its
standard input closes, so it never outlives the test that started it. tests/twilio/README.md
describes the emulated API, the records and the control routes under /_standin/.

CONFIG (optional JSON):
  "credentials": [["SK...", "secret"], ...]  only these Basic pairs get in (default: any)
  "account_sid": "AC..."                       the account_sid of the users (default AC0...0)
  "verbose": true                              one line per request on stderr

Python 3.11 standard library only.
"""

import base64
import binascii
import datetime
import json
import os
import secrets
import select
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote

DEFAULT_ACCOUNT = "AC" + "0" * 32
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_BODY = 10 * 1024 * 1024
HANG_SECONDS = 120


def error_body(status, code, message, **extra):
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    body.update(extra)
    return body


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_sid(prefix):
    return prefix + secrets.token_hex(16)


class Answer:
    """What the stand-in sends back: status, headers, body bytes."""

    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.headers = dict(headers or {})
        if body is None:
            self.body = b""
        elif isinstance(body, (bytes, bytearray)):
            self.body = bytes(body)
        elif isinstance(body, str):
            self.body = body.encode("utf-8")
            self.headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            self.body = json.dumps(body).encode("utf-8")
            self.headers.setdefault("Content-Type", "application/json; charset=utf-8")


def json_answer(status, body):
    return Answer(status, body)


class State:
    """Users, records and scripts; one lock for all of them, so a request's record and its
    effect on the store happen together, in arrival order."""

    def __init__(self, config):
        self.lock = threading.Lock()
        self.credentials = None
        if config.get("credentials") is not None:
            self.credentials = {(str(u), str(p)) for u, p in config["credentials"]}
        self.account_sid = config.get("account_sid") or DEFAULT_ACCOUNT
        self.origin = ""  # set once bound
        self.reset()

    def reset(self):
        self.records = []
        self.services = {}  # service sid -> {"users": [user, ...], "role_sid": "RL..."}
        self.scripts = []  # [{"entry": {...}, "left": n}]

    def service(self, service_sid):
        if service_sid not in self.services:
            self.services[service_sid] = {"users": [], "role_sid": new_sid("RL")}
        return self.services[service_sid]

    # --- users -------------------------------------------------------------------------

    def user_url(self, service_sid, sid):
        return f"{self.origin}/v1/Services/{service_sid}/Users/{sid}"

    def make_user(self, service_sid, identity, friendly_name=None, attributes=None, role_sid=None):
        service = self.service(service_sid)
        sid = new_sid("US")
        stamp = now_iso()
        url = self.user_url(service_sid, sid)
        user = {
            "sid": sid,
            "account_sid": self.account_sid,
            "chat_service_sid": service_sid,
            "role_sid": role_sid or service["role_sid"],
            "identity": identity,
            "friendly_name": friendly_name,
            "attributes": attributes if attributes is not None else "{}",
            "is_online": None,
            "is_notifiable": None,
            "date_created": stamp,
            "date_updated": stamp,
            "url": url,
            "links": {"user_conversations": f"{url}/Conversations"},
        }
        service["users"].append(user)
        return user

    def find_user(self, service_sid, key):
        users = self.services.get(service_sid, {"users": []})["users"]
        for user in users:
            if user["sid"] == key:
                return user
        for user in users:
            if user["identity"] == key:
                return user
        return None

    def find_identity(self, service_sid, identity):
        users = self.services.get(service_sid, {"users": []})["users"]
        return next((u for u in users if u["identity"] == identity), None)

    # --- scripts -----------------------------------------------------------------------

    def take_script(self, method, raw_path):
        for script in self.scripts:
            if script["left"] <= 0:
                continue
            entry = script["entry"]
            wanted = entry.get("method")
            if wanted is not None and str(wanted).upper() != method:
                continue
            if not raw_path.startswith(entry.get("path_prefix") or ""):
                continue
            script["left"] -= 1
            return entry
        return None


class Request:
    """One request as received, decoded for the emulation and for its record."""

    def __init__(self, method, target, headers, body):
        self.method = method
        if target.startswith(("http://", "https://")):
            # absolute-form request target: keep the path
            rest = target.split("://", 1)[1]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        self.raw_path, _, self.query = target.partition("?")
        self.path_segments = [unquote(s, errors="replace") for s in self.raw_path.split("/")[1:]]
        self.headers = {}
        for name, value in headers.items():
            name = name.lower()
            if name in self.headers:
                self.headers[name] += ", " + value
            else:
                self.headers[name] = value
        self.body_bytes = body
        self.body = body.decode("utf-8", errors="replace")
        content_type = self.headers.get("content-type", "application/x-www-form-urlencoded")
        is_form = content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
        self.form = parse_qsl(self.body, keep_blank_values=True, errors="replace") if self.body and is_form else []
        self.query_pairs = parse_qsl(self.query, keep_blank_values=True, errors="replace")
        self.basic_auth = parse_basic(self.headers.get("authorization"))

    def form_value(self, name):
        """The first value of a form field, or None."""
        return next((v for k, v in self.form if k == name), None)

    def query_value(self, name):
        return next((v for k, v in self.query_pairs if k == name), None)

    def record(self, answered):
        return {
            "method": self.method,
            "raw_path": self.raw_path,
            "query": self.query,
            "path_segments": self.path_segments,
            "headers": self.headers,
            "body": self.body,
            "form": [[k, v] for k, v in self.form],
            "basic_auth": list(self.basic_auth) if self.basic_auth else None,
            "answered": answered,
        }


def parse_basic(header):
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if ":" not in decoded:
        return None
    user, _, password = decoded.partition(":")
    return (user, password)


# --- the emulated API ----------------------------------------------------------------------


def emulate(state, req):
    """The answer of Twilio's Conversations Users API; called with the state's lock held."""
    if req.basic_auth is None or (
        state.credentials is not None and tuple(req.basic_auth) not in state.credentials
    ):
        return Answer(
            401,
            error_body(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."),
            {"WWW-Authenticate": 'Basic realm="Twilio API"'},
        )
    segments = req.path_segments
    not_found = json_answer(
        404, error_body(404, 20404, f"The requested resource {req.raw_path} was not found")
    )
    if len(segments) < 4 or segments[0] != "v1" or segments[1] != "Services" or segments[3] != "Users":
        return not_found
    service_sid = segments[2]
    if len(segments) == 4 or (len(segments) == 5 and segments[4] == ""):
        if req.method == "POST":
            return create_user(state, service_sid, req)
        if req.method == "GET":
            return list_users(state, service_sid, req)
        return method_not_allowed()
    # Everything after /Users/, decoded once: "%2F" is a "/" of the identity.
    raw_key = req.raw_path.split("/", 5)[5]
    if "/" in raw_key or raw_key == "":
        # A raw "/" is a path separator: a sub-resource (…/Conversations) or no route at all.
        return not_found
    key = unquote(raw_key, errors="replace")
    user = state.find_user(service_sid, key)
    if req.method not in ("GET", "POST", "DELETE"):
        return method_not_allowed()
    if user is None:
        return not_found
    if req.method == "GET":
        return json_answer(200, user)
    if req.method == "POST":
        apply_fields(user, req)
        user["date_updated"] = now_iso()
        return json_answer(200, user)
    state.services[service_sid]["users"].remove(user)
    return Answer(204)


def method_not_allowed():
    return json_answer(405, error_body(405, 20004, "Method not allowed"))


def apply_fields(user, req):
    for field, key in (("FriendlyName", "friendly_name"), ("Attributes", "attributes"), ("RoleSid", "role_sid")):
        value = req.form_value(field)
        if value is not None:
            user[key] = value


def create_user(state, service_sid, req):
    identity = req.form_value("Identity")
    if not identity:
        return json_answer(400, error_body(400, 20001, "Missing required parameter Identity"))
    if state.find_identity(service_sid, identity) is not None:
        return json_answer(409, error_body(409, 50201, "User already exists"))
    user = state.make_user(
        service_sid,
        identity,
        friendly_name=req.form_value("FriendlyName"),
        attributes=req.form_value("Attributes"),
        role_sid=req.form_value("RoleSid"),
    )
    return json_answer(201, user)


def page_url(state, raw_path, page_size, page, token=None):
    url = f"{state.origin}{raw_path}?PageSize={page_size}&Page={page}"
    if token:
        url += "&PageToken=" + quote(token, safe="")
    return url


def list_users(state, service_sid, req):
    def bad(what):
        return json_answer(400, error_body(400, 20001, what))

    try:
        page_size = int(req.query_value("PageSize") or DEFAULT_PAGE_SIZE)
        page = int(req.query_value("Page") or 0)
    except ValueError:
        return bad("Invalid PageSize or Page")
    if page_size < 1 or page < 0:
        return bad("Invalid PageSize or Page")
    page_size = min(page_size, MAX_PAGE_SIZE)
    users = state.services.get(service_sid, {"users": []})["users"]
    sids = [u["sid"] for u in users]
    token = req.query_value("PageToken")
    # PageToken "PA<sid>": the page after that user; "PB<sid>": the page before it.
    start = page * page_size
    if token and token[2:] in sids:
        at = sids.index(token[2:])
        if token.startswith("PA"):
            start = at + 1
        elif token.startswith("PB"):
            start = max(0, at - page_size)
    elif token:
        return bad("Invalid PageToken")
    items = users[start : start + page_size]
    first_path = req.raw_path.rstrip("/") if req.raw_path.endswith("/") else req.raw_path
    meta = {
        "page": page,
        "page_size": page_size,
        "first_page_url": page_url(state, first_path, page_size, 0),
        "previous_page_url": (
            page_url(state, first_path, page_size, page - 1, "PB" + items[0]["sid"])
            if page > 0 and items
            else None
        ),
        "url": page_url(state, first_path, page_size, page, token),
        "next_page_url": (
            page_url(state, first_path, page_size, page + 1, "PA" + items[-1]["sid"])
            if items and start + len(items) < len(users)
            else None
        ),
        "key": "users",
    }
    return json_answer(200, {"users": items, "meta": meta})


# --- the control routes --------------------------------------------------------------------


def control(state, req):
    route = req.raw_path[len("/_standin/") :].rstrip("/")
    try:
        payload = json.loads(req.body) if req.body.strip() else None
    except json.JSONDecodeError as e:
        return json_answer(400, {"error": f"the body is not JSON: {e}"})
    with state.lock:
        if route == "requests" and req.method == "GET":
            return json_answer(200, state.records)
        if route == "reset" and req.method == "POST":
            state.reset()
            return json_answer(200, {"reset": True})
        if route == "users" and req.method == "GET":
            service = req.query_value("service")
            if not service:
                return json_answer(400, {"error": "?service=IS... is required"})
            return json_answer(200, state.services.get(service, {"users": []})["users"])
        if route == "users" and req.method == "POST":
            if isinstance(payload, list):
                return seed_users(state, payload)
            if not isinstance(payload, dict) or not payload.get("service") or not payload.get("identity"):
                return json_answer(400, {"error": 'want {"service", "identity", "friendly_name"}'})
            if state.find_identity(payload["service"], payload["identity"]) is not None:
                return json_answer(409, {"error": "that identity is taken"})
            user = state.make_user(payload["service"], payload["identity"], payload.get("friendly_name"))
            return json_answer(201, user)
        if route == "script" and req.method == "POST":
            entries = payload if isinstance(payload, list) else [payload]
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("status", 200), int):
                    return json_answer(400, {"error": f"not a script entry: {entry!r}"})
            for entry in entries:
                state.scripts.append({"entry": entry, "left": int(entry.get("times", 1))})
            return json_answer(200, {"scripts": len(state.scripts)})
    return json_answer(404, {"error": f"no control route {req.method} {req.raw_path}"})


def seed_users(state, entries):
    """Seeds a batch, all or nothing (the caller holds the lock): 201 and the users made, in
    order; 400 for an entry without "service" or "identity", 409 for an identity taken
    (in the store or earlier in the batch)."""
    taken = {}
    for at, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("service") or not entry.get("identity"):
            return json_answer(400, {"error": f'entry {at}: want {{"service", "identity", "friendly_name"}}'})
        service = entry["service"]
        if service not in taken:
            taken[service] = {u["identity"] for u in state.services.get(service, {"users": []})["users"]}
        if entry["identity"] in taken[service]:
            return json_answer(409, {"error": f"entry {at}: that identity is taken"})
        taken[service].add(entry["identity"])
    made = [state.make_user(e["service"], e["identity"], e.get("friendly_name")) for e in entries]
    return json_answer(201, made)


# --- HTTP ----------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twilio-standin"
    state = None  # set in main
    verbose = False

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        if self.verbose:
            sys.stderr.write("standin: " + (format % args) + "\n")

    def send_error(self, code, message=None, explain=None):
        # http.server's own errors (a malformed request line or header): JSON, not HTML.
        try:
            self.close_connection = True
            self.send_answer(Answer(code, {"error": message or "bad request", "status": code}))
        except OSError:
            pass

    def send_answer(self, answer):
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, str(value))
        if answer.status not in (204, 304) and not (100 <= answer.status < 200):
            self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if answer.body and self.command != "HEAD" and answer.status not in (204, 304):
            self.wfile.write(answer.body)
        self.wfile.flush()

    def read_body(self):
        """The request body, or an Answer when it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip() or b"x", 16)
                except ValueError:
                    return Answer(400, {"error": "bad chunk size", "status": 400})
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return Answer(413, {"error": "body too large", "status": 413})
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            length = int(length)
        except ValueError:
            return Answer(400, {"error": "bad Content-Length", "status": 400})
        if length < 0:
            return Answer(400, {"error": "bad Content-Length", "status": 400})
        if length > MAX_BODY:
            return Answer(413, {"error": "body too large", "status": 413})
        body = self.rfile.read(length)
        if len(body) < length:
            return None  # the client went away mid-body
        return body

    def handle_any(self):
        try:
            self.answer_request()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self.send_answer(Answer(500, {"error": "stand-in bug; see its stderr", "status": 500}))
            except OSError:
                pass

    def answer_request(self):
        state = self.state
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return
        if isinstance(body, Answer):
            self.close_connection = True
            self.send_answer(body)
            return
        req = Request(self.command, self.path, self.headers, body)
        if req.raw_path.startswith("/_standin/"):
            self.send_answer(control(state, req))
            return
        with state.lock:
            script = state.take_script(req.method, req.raw_path)
            if script is None:
                answer = emulate(state, req)
                state.records.append(req.record(answer.status))
            else:
                hang = bool(script.get("hang"))
                answer = Answer(int(script.get("status", 200)), script.get("body"), script.get("headers"))
                state.records.append(req.record(0 if hang else answer.status))
        if script is not None:
            if script.get("hang"):
                self.hang()
                return
            delay = float(script.get("delay_ms") or 0) / 1000
            if delay > 0:
                time.sleep(delay)
        self.send_answer(answer)

    def hang(self):
        """Holds the connection without answering until the client closes it or
        HANG_SECONDS pass; then closes it."""
        self.close_connection = True
        deadline = time.monotonic() + HANG_SECONDS
        sock = self.connection
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([sock], [], [], min(left, 1.0))
            if readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return  # the client gave up

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if Handler.verbose:
            traceback.print_exc(file=sys.stderr)


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except Exception:
        pass
    os._exit(0)


def main():
    config = {}
    if len(sys.argv) > 1 and sys.argv[1].strip():
        config = json.loads(sys.argv[1])
    state = State(config)
    Handler.state = state
    Handler.verbose = bool(config.get("verbose"))
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state.origin = f"http://127.0.0.1:{port}"
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    # Bound and listening: connections queue until serve_forever picks them up.
    sys.stdout.write(json.dumps({"url": state.origin}) + "\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
