"""Local stand-ins for Aliyun's and Tencent Cloud's SMS APIs, for the providers' real SDKs.

Each is an HTTP server on 127.0.0.1 (a free port) that checks a request the way the provider
documents it — the action and version, the signature recomputed with the same algorithm and
the known test keys (so a request signed wrongly, or whose body was changed after signing, is
refused as the provider would refuse it), the parameters — and answers with the provider's
documented bodies: success, a business error, an HTTP 5xx, or nothing for longer than the
SDK waits.

Aliyun: V3 signature (ACS3-HMAC-SHA256). Canonical request = method, path, the sorted
query string (RFC 3986 encoded), the signed headers "name:value" lowercase and sorted, the
list of signed headers, and the hex SHA-256 of the body (also sent as x-acs-content-sha256);
the signature is HMAC-SHA256 with the AccessKey secret over "ACS3-HMAC-SHA256\\n" + hex
SHA-256 of the canonical request.

Tencent: TC3-HMAC-SHA256. Canonical request = method, "/", "", "content-type:…\\nhost:…\\n",
"content-type;host", hex SHA-256 of the body; string to sign = algorithm, X-TC-Timestamp,
"<UTC date>/sms/tc3_request", hex SHA-256 of the canonical request; the key is derived
HMAC("TC3" + SecretKey, date) → "sms" → "tc3_request".
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

from couriers.messaging.templates import TEMPLATES


@dataclasses.dataclass
class Answer:
    body: dict | list | str
    status: int = 200
    delay: float = 0.0  # seconds before answering: past the SDK's timeout, it gives up
    content_type: str = "application/json"


@dataclasses.dataclass
class Seen:
    """One request as the fake understood it."""

    action: str
    params: dict  # Aliyun: the query parameters; Tencent: the JSON body
    headers: dict
    signature_ok: bool


class FakeProvider:
    """The server and its thread; `answers` are used in turn, then the success answer. With
    `qps`, requests past that many in one second get the provider's flow-control answer, as
    a provider does under a broadcast."""

    def __init__(self, qps: float | None = None) -> None:
        self.qps = qps
        self.throttled = 0
        self._window = (0, 0)  # (second, requests in it)
        self._lock = threading.Lock()
        self.answers: list[Answer] = []
        self.seen: list[Seen] = []
        self.refused: list[str] = []  # why requests were refused (signature, parameters)
        self._released = threading.Event()  # ends a delayed answer when the server stops
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.over_rate():
                    answer = fake.throttle_answer()
                else:
                    answer = fake.handle(self.command, self.path, dict(self.headers.items()), body)
                if answer.delay:
                    fake._released.wait(answer.delay)
                payload = (
                    answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                ).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the SDK gave up waiting and closed the connection

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def over_rate(self) -> bool:
        if self.qps is None:
            return False
        with self._lock:
            second = int(time.monotonic())
            start, count = self._window
            count = count + 1 if start == second else 1
            self._window = (second, count)
            if count > self.qps:
                self.throttled += 1
                return True
            return False

    def throttle_answer(self) -> Answer:
        raise NotImplementedError

    def next_answer(self, success: Answer) -> Answer:
        return self.answers.pop(0) if self.answers else success

    def handle(self, method: str, target: str, headers: dict, body: bytes) -> Answer:
        raise NotImplementedError


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


# --- Aliyun ------------------------------------------------------------------------------------


class AliyunFake(FakeProvider):
    ACCESS_KEY_ID = "LTAI5tLocalFakeKeyId"
    ACCESS_KEY_SECRET = "local-fake-secret-for-the-test-server"
    VERSION = "2017-05-25"
    MUST_SIGN = {
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    }

    def __init__(self, qps: float | None = None) -> None:
        super().__init__(qps)
        self.nonces: set[str] = set()
        self.details: dict[str, dict] = {}  # BizId → SmsSendDetailDTO for QuerySendDetails

    @staticmethod
    def request_id() -> str:
        return str(uuid.uuid4()).upper()

    # Aliyun's documented answers -------------------------------------------------------------
    def sent(self, biz_id: str) -> Answer:
        return Answer(
            {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": self.request_id()}
        )

    def throttle_answer(self) -> Answer:
        return Answer(
            {
                "RequestId": self.request_id(),
                "HostId": "dysmsapi.aliyuncs.com",
                "Code": "Throttling.User",
                "Message": "Request was denied due to user flow control.",
            },
            status=400,
        )

    def fail(self, code: str, message: str) -> None:
        """A business error: Aliyun answers HTTP 200 with the code."""
        self.answers.append(Answer({"Code": code, "Message": message, "RequestId": "x"}))

    def signature_refused(self, why: str) -> Answer:
        self.refused.append(why)
        return Answer(
            {
                "RequestId": self.request_id(),
                "HostId": "dysmsapi.aliyuncs.com",
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature does not match our calculation.",
                "Recommend": "https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch",
            },
            status=400,
        )

    # Checking a request ------------------------------------------------------------------------
    def signature_problem(self, method, target, headers, body) -> str:
        headers = {name.lower(): value for name, value in headers.items()}
        authorization = headers.get("authorization", "")
        algorithm, _, fields = authorization.partition(" ")
        if algorithm != "ACS3-HMAC-SHA256":
            return f"not ACS3-HMAC-SHA256: {authorization!r}"
        parts = dict(part.split("=", 1) for part in fields.split(",") if "=" in part)
        if parts.get("Credential") != self.ACCESS_KEY_ID:
            return "unknown AccessKey id"
        signed = parts.get("SignedHeaders", "").split(";")
        if missing := self.MUST_SIGN - set(signed):
            return f"headers not signed: {sorted(missing)}"
        if headers.get("x-acs-content-sha256") != _sha256(body):
            return "x-acs-content-sha256 is not the body's hash"
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self.nonces:
            return "nonce used twice (a replayed request)"
        self.nonces.add(nonce)
        url = urlsplit(target)
        query = sorted(parse_qsl(url.query, keep_blank_values=True))
        canonical_query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in query)
        canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
        canonical = "\n".join(
            (method, url.path or "/", canonical_query, canonical_headers, ";".join(signed))
        )
        canonical += "\n" + _sha256(body)
        to_sign = f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode())}"
        expected = hmac.new(
            self.ACCESS_KEY_SECRET.encode(), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return "signature does not match"
        return ""

    def handle(self, method, target, headers, body) -> Answer:
        problem = self.signature_problem(method, target, headers, body)
        lowered = {name.lower(): value for name, value in headers.items()}
        action = lowered.get("x-acs-action", "")
        params = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        self.seen.append(Seen(action, params, lowered, not problem))
        if problem:
            return self.signature_refused(problem)
        if lowered.get("x-acs-version") != self.VERSION:
            self.refused.append("version")
            return Answer({"Code": "InvalidVersion", "Message": "version"}, status=400)
        if action == "SendSms":
            missing = {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"} - set(params)
            if missing:
                self.refused.append(f"missing {sorted(missing)}")
                return Answer(
                    {"Code": "MissingParameter", "Message": str(sorted(missing))}, status=400
                )
            try:
                template_param = json.loads(params["TemplateParam"])
            except ValueError:
                template_param = None
            if not isinstance(template_param, dict) or not all(
                isinstance(value, str) for value in template_param.values()
            ):
                return Answer({"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"})
            answer = self.next_answer(self.sent(f"{len(self.seen)}04102^0"))
            if isinstance(answer.body, dict) and answer.body.get("BizId"):
                self.details[answer.body["BizId"]] = {
                    "PhoneNum": params["PhoneNumbers"],
                    "TemplateCode": params["TemplateCode"],
                }
            return answer
        if action == "QuerySendDetails":
            return self.next_answer(self.query_answer(params))
        self.refused.append(f"unknown action {action}")
        return Answer({"Code": "InvalidAction.NotFound", "Message": action}, status=404)

    def query_answer(self, params: dict) -> Answer:
        found = self.details.get(params.get("BizId", ""), {})
        dtos = []
        if found:
            dtos.append(
                {
                    "ErrCode": found.get("ErrCode", "DELIVERED"),
                    "TemplateCode": found["TemplateCode"],
                    "OutId": "",
                    "ReceiveDate": found.get("ReceiveDate", "2026-12-01 10:00:05"),
                    "SendDate": "2026-12-01 10:00:01",
                    "PhoneNum": found["PhoneNum"],
                    "Content": "【奉贤快递小哥】…",
                    "SendStatus": found.get("SendStatus", 3),
                }
            )
        return Answer(
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": self.request_id(),
                "TotalCount": len(dtos),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos},
            }
        )


# --- Tencent Cloud -----------------------------------------------------------------------------


class TencentFake(FakeProvider):
    SECRET_ID = "AKIDLocalFakeSecretIdForTests"
    SECRET_KEY = "local-fake-key-for-the-test-server"
    VERSION = "2021-01-11"
    SERVICE = "sms"

    def __init__(self, qps: float | None = None) -> None:
        super().__init__(qps)
        self.reports: list[dict] = []  # what PullSmsSendStatus hands out (once)

    @staticmethod
    def request_id() -> str:
        return str(uuid.uuid4())

    # Tencent's documented answers ------------------------------------------------------------
    def sent(self, phone: str, code: str = "Ok", message: str = "send success") -> Answer:
        ok = code == "Ok"
        return Answer(
            {
                "Response": {
                    "SendStatusSet": [
                        {
                            "SerialNo": f"5000:{uuid.uuid4().int % 10**28}" if ok else "",
                            "PhoneNumber": phone,
                            "Fee": 1 if ok else 0,
                            "SessionContext": "",
                            "Code": code,
                            "Message": message,
                            "IsoCode": "CN",
                        }
                    ],
                    "RequestId": self.request_id(),
                }
            }
        )

    def refuse_number(self, code: str, message: str) -> None:
        """The call succeeds; the number's SendStatus carries the error."""
        self.answers.append(Answer({"number_error": [code, message]}))

    def throttle_answer(self) -> Answer:
        return self.api_error("RequestLimitExceeded", "请求的次数超过了频率限制。")

    def fail(self, code: str, message: str) -> None:
        """The call itself fails: Response.Error (HTTP 200, as Tencent answers)."""
        self.answers.append(self.api_error(code, message))

    def api_error(self, code: str, message: str) -> Answer:
        return Answer({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "x"}})

    # Checking a request ------------------------------------------------------------------------
    def signature_problem(self, method, headers, body) -> str:
        headers = {name.lower(): value for name, value in headers.items()}
        authorization = headers.get("authorization", "")
        algorithm, _, fields = authorization.partition(" ")
        if algorithm != "TC3-HMAC-SHA256":
            return f"not TC3-HMAC-SHA256: {authorization!r}"
        parts = dict(part.strip().split("=", 1) for part in fields.split(",") if "=" in part)
        secret_id, _, scope = parts.get("Credential", "").partition("/")
        if secret_id != self.SECRET_ID:
            return "unknown SecretId"
        timestamp = headers.get("x-tc-timestamp", "")
        date = datetime.datetime.fromtimestamp(int(timestamp or 0), datetime.UTC).strftime(
            "%Y-%m-%d"
        )
        if scope != f"{date}/{self.SERVICE}/tc3_request":
            return f"credential scope {scope!r} is not {date}/{self.SERVICE}/tc3_request"
        if parts.get("SignedHeaders") != "content-type;host":
            return "SignedHeaders must be content-type;host"
        canonical = "\n".join(
            [
                method,
                "/",
                "",
                f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n",
                "content-type;host",
                _sha256(body),
            ]
        )
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                timestamp,
                f"{date}/{self.SERVICE}/tc3_request",
                _sha256(canonical.encode()),
            ]
        )
        key = _hmac(f"TC3{self.SECRET_KEY}".encode(), date)
        key = _hmac(_hmac(key, self.SERVICE), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return "signature does not match"
        return ""

    def handle(self, method, target, headers, body) -> Answer:
        lowered = {name.lower(): value for name, value in headers.items()}
        action = lowered.get("x-tc-action", "")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        problem = self.signature_problem(method, headers, body)
        self.seen.append(Seen(action, params, lowered, not problem))
        if problem:
            self.refused.append(problem)
            return self.api_error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        if lowered.get("x-tc-version") != self.VERSION or not lowered.get("x-tc-region"):
            self.refused.append("version or region")
            return self.api_error("NoSuchVersion", "The requested version does not exist.")
        if action == "SendSms":
            required = {"PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId"}
            if missing := required - set(params):
                self.refused.append(f"missing {sorted(missing)}")
                return self.api_error("MissingParameter", str(sorted(missing)))
            phone = params["PhoneNumberSet"][0]
            if not phone.startswith("+86"):
                self.refused.append("not +86")
            template_params = params.get("TemplateParamSet", [])
            if not all(isinstance(value, str) for value in template_params):
                self.refused.append("TemplateParamSet must be strings")
                return self.api_error("InvalidParameter", "TemplateParamSet")
            answer = self.next_answer(self.sent(phone))
            if isinstance(answer.body, dict) and "number_error" in answer.body:
                return self.sent(phone, *answer.body["number_error"])
            return answer
        if action == "PullSmsSendStatus":
            reports, self.reports = self.reports, []
            return self.next_answer(
                Answer(
                    {
                        "Response": {
                            "PullSmsSendStatusSet": reports,
                            "RequestId": self.request_id(),
                        }
                    }
                )
            )
        self.refused.append(f"unknown action {action}")
        return self.api_error("InvalidAction", f"{action} does not exist.")


# --- Pointing the portal at a fake ---------------------------------------------------------

# Every portal template registered, with codes the way each provider numbers them.
ALIYUN_CODES = {code: f"SMS_4700{n:05d}" for n, code in enumerate(TEMPLATES)}
TENCENT_CODES = {code: str(2_100_000 + n) for n, code in enumerate(TEMPLATES)}


def use_aliyun(settings, fake: AliyunFake, timeout: float = 2.0) -> None:
    settings.SMS_BACKEND = "couriers.messaging.providers.aliyun.AliyunBackend"
    settings.ALIBABA_CLOUD_ACCESS_KEY_ID = fake.ACCESS_KEY_ID
    settings.ALIBABA_CLOUD_ACCESS_KEY_SECRET = fake.ACCESS_KEY_SECRET
    settings.SMS_ALIYUN_ENDPOINT = fake.address
    settings.SMS_ALIYUN_PROTOCOL = "http"
    settings.SMS_TEMPLATE_CODES = dict(ALIYUN_CODES)
    settings.SMS_PROVIDER_TIMEOUT = timeout


def use_tencent(settings, fake: TencentFake, timeout: float = 2.0) -> None:
    settings.SMS_BACKEND = "couriers.messaging.providers.tencent.TencentBackend"
    settings.TENCENTCLOUD_SECRET_ID = fake.SECRET_ID
    settings.TENCENTCLOUD_SECRET_KEY = fake.SECRET_KEY
    settings.SMS_SDK_APP_ID = "1400100001"
    settings.SMS_TENCENT_ENDPOINT = fake.address
    settings.SMS_TENCENT_PROTOCOL = "http"
    settings.SMS_TENCENT_REGION = "ap-guangzhou"
    settings.SMS_TEMPLATE_CODES = dict(TENCENT_CODES)
    settings.SMS_PROVIDER_TIMEOUT = timeout


def environment(fake: FakeProvider) -> dict[str, str]:
    """The settings, as environment variables, that point another process (a `db_worker`, a
    benchmark) at `fake`."""
    if isinstance(fake, AliyunFake):
        return {
            "SMS_BACKEND": "couriers.messaging.providers.aliyun.AliyunBackend",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": fake.ACCESS_KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": fake.ACCESS_KEY_SECRET,
            "SMS_ALIYUN_ENDPOINT": fake.address,
            "SMS_ALIYUN_PROTOCOL": "http",
            "SMS_SIGN_NAME": "奉贤快递小哥",
            "SMS_TEMPLATE_CODES": json.dumps(ALIYUN_CODES),
        }
    return {
        "SMS_BACKEND": "couriers.messaging.providers.tencent.TencentBackend",
        "TENCENTCLOUD_SECRET_ID": fake.SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": fake.SECRET_KEY,
        "SMS_SDK_APP_ID": "1400100001",
        "SMS_TENCENT_ENDPOINT": fake.address,
        "SMS_TENCENT_PROTOCOL": "http",
        "SMS_SIGN_NAME": "奉贤快递小哥",
        "SMS_TEMPLATE_CODES": json.dumps(TENCENT_CODES),
    }


if __name__ == "__main__":
    # python -m tests.sms_fakes aliyun|tencent [QPS]: a fake for a worker in another process;
    # prints the environment that points the portal at it, then serves until interrupted.
    import sys

    kind = sys.argv[1] if len(sys.argv) > 1 else "aliyun"
    qps = float(sys.argv[2]) if len(sys.argv) > 2 else None
    with (AliyunFake if kind == "aliyun" else TencentFake)(qps=qps) as running:
        for name, value in environment(running).items():
            print(f"export {name}='{value}'", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            running.thread.join()
