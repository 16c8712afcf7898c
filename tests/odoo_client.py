# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A small client of a running Odoo server, the way a browser or an integration talks to it.

Two doors, on purpose: the browser's (``/web/session/authenticate`` then
``/web/dataset/call_kw`` with the session cookie, plus plain GETs of controllers) and the
external API's (``/jsonrpc`` ``execute_kw`` with login and password on every call).
"""

import itertools

import requests

_ids = itertools.count(1)


class RpcError(Exception):
    """An error answered by the server: ``name`` is the Odoo exception class."""

    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name") or ""
        self.message = data.get("message") or error.get("message") or ""
        self.code = error.get("code")
        super().__init__(f"{self.name}: {self.message}")

    @property
    def kind(self):
        """Short name of the exception class (``AccessError``, ``UserError``...)."""
        return self.name.rsplit(".", 1)[-1]


def _jsonrpc(session, url, params, timeout):
    payload = {"jsonrpc": "2.0", "method": "call", "id": next(_ids), "params": params}
    response = session.post(url, json=payload, timeout=timeout)
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise RpcError(body["error"])
    return body.get("result")


class WebSession:
    """A browser session: cookie-based, through the web client's own routes."""

    def __init__(self, base_url, db, timeout=60):
        self.base_url = base_url.rstrip("/")
        self.db = db
        self.timeout = timeout
        self.http = requests.Session()
        self.uid = None

    def authenticate(self, login, password):
        result = _jsonrpc(
            self.http,
            f"{self.base_url}/web/session/authenticate",
            {"db": self.db, "login": login, "password": password},
            self.timeout,
        )
        self.uid = result and result.get("uid")
        if not self.uid:
            raise RpcError({"message": f"login {login!r} refused", "data": {}})
        return self

    def call(self, model, method, *args, **kwargs):
        return _jsonrpc(
            self.http,
            f"{self.base_url}/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            self.timeout,
        )

    def json(self, path, params=None):
        """Call a JSON route (type="json") of the server."""
        return _jsonrpc(self.http, f"{self.base_url}{path}", params or {}, self.timeout)

    def get(self, path, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(f"{self.base_url}{path}", **kwargs)

    def post(self, path, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return self.http.post(f"{self.base_url}{path}", **kwargs)


class ExternalApi:
    """The external JSON-RPC API (``/jsonrpc``): credentials on every call."""

    def __init__(self, base_url, db, login, password, timeout=60, uid=None):
        """``uid`` given: skip the login (to try calls with forged credentials)."""
        self.url = base_url.rstrip("/") + "/jsonrpc"
        self.db = db
        self.login = login
        self.password = password
        self.timeout = timeout
        self.http = requests.Session()
        self.uid = uid or self._service("common", "login", db, login, password)

    def _service(self, service, method, *args):
        return _jsonrpc(
            self.http,
            self.url,
            {"service": service, "method": method, "args": list(args)},
            self.timeout,
        )

    def call(self, model, method, *args, **kwargs):
        if not self.uid:
            raise RpcError(
                {
                    "message": "Access Denied",
                    "data": {"name": "odoo.exceptions.AccessDenied"},
                }
            )
        return self._service(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )
