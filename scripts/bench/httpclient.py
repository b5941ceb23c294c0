"""A small HTTP client on http.client: keep-alive, its own cookies, form parsing. No new dependency.

Cookies are kept by name whatever their Secure flag: in production fundapp sets Secure cookies and a
TLS proxy stands in front; the bench talks to gunicorn directly over plain HTTP, as that proxy does.
"""

import http.client
import re
import time
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit


class Client:
    def __init__(self, host, port, timeout=120):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies = {}
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, data=None, headers=None):
        """(status, headers dict, body str, seconds). Form data: a list of pairs or a dict."""
        body = None
        head = {"Host": f"{self.host}:{self.port}", "Accept-Language": "en"}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data, doseq=True)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        head.update(headers or {})
        for attempt in range(2):
            started = time.perf_counter()
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=head)
                response = conn.getresponse()
                payload = response.read()
                seconds = time.perf_counter() - started
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: one new connection, once.
                self.close()
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "expires=thu, 01 jan 1970" in value.lower() or val == "":
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val.strip()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, dict(response.getheaders()), payload.decode("utf-8", "replace"), seconds

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data, headers=None):
        return self.request("POST", path, data=data, headers=headers)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def location_path(headers):
    location = headers.get("Location") or headers.get("location") or ""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf_of(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1) if match else ""


class _FormParser(HTMLParser):
    """The fields a browser would send for the first form matching `marker` (an attribute name)."""

    def __init__(self, marker):
        super().__init__(convert_charrefs=True)
        self.marker, self.inside, self.done = marker, False, False
        self.fields, self.action = [], None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and self.marker in a:
            self.inside, self.action = True, a.get(self.marker)
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append([name, a.get("value", "on" if kind in ("checkbox", "radio") else "")])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self.fields.append(self._textarea)
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "chosen": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["chosen"] = value

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the one newline that follows <textarea>.
            value = self._textarea[1]
            self._textarea[1] = (
                value[2:] if value.startswith("\r\n") else value[1:] if value.startswith("\n") else value
            )
            self._textarea = None
        elif tag == "select" and self._select is not None:
            s = self._select
            value = s["chosen"] if s["chosen"] is not None else s["first"]
            if value is not None:
                self.fields.append([s["name"], value])
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_fields(html, marker):
    """([[name, value]], the marker attribute's value) of the first form carrying `marker`."""
    parser = _FormParser(marker)
    parser.feed(html)
    return parser.fields, parser.action
