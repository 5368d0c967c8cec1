"""What ``/api/docs/`` shows beyond the generated schema: a summary line for every call,
examples of each request and answer in the SPEC §10 shapes, and the webhook notice with its
signature (a component, ``WebhookNotice``, and a section of the API's description).

``document`` is a drf-spectacular post-processing hook (``SPECTACULAR_SETTINGS``): it adds to
the generated schema and never removes from it, so the serializers stay the one source of the
shapes. The data are synthetic: the identity numbers carry valid check characters, the
domains are ``.cn`` names nobody owns.
"""

from __future__ import annotations

import copy
from typing import Any

USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"

SPONSOR = {
    "nature": "enterprise",
    "name": "北京星河示例科技有限公司",
    "id_type": "uscc",
    "id_number": USCC,
    "province": "11",
    "address": "北京市海淀区中关村大街1号",
    "principal": {
        "name": "张伟",
        "id_type": "resident_id",
        "id_number": RESIDENT_ID,
        "mobile": "13800138000",
        "email": "zhangwei@xinghe-demo.cn",
    },
}
# A website, app or mini-program gets its id (its row) when its filing is first submitted: a
# draft never submitted shows ``"id": null``, a submitted one its id, kept in every later draft
# and version.
WEBSITE = {
    "id": None,
    "name": "星河科技官网",
    "number": None,
    "homepage": "http://www.xinghe-demo.cn/",
    "domains": ["xinghe-demo.cn"],
    "ips": ["120.79.1.10"],
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
    "server_location": "11",
    "access_provider": 3,
    "accesses": [
        {"provider": 3, "method": "cloud", "server_location": "11", "ips": ["120.79.1.10"]}
    ],
}
APP = {
    "id": None,
    "name": "星河科技App",
    "number": None,
    "platforms": [
        {
            "platform": "android",
            "identifier": "cn.xinghe_demo.app",
            "public_key": "B0C6A7A7F4794916470A9939428B8B4B901A89202FD2C6C998674A3320B7FBBC",
            "fingerprint": "68FF1D5FDEBC4153F60DA031591CF6D8",
        }
    ],
    "domains": ["api.xinghe-demo.cn"],
    "stores": ["other"],
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
    "accesses": [
        {"provider": 3, "method": "cloud", "server_location": "11", "ips": ["120.79.1.11"]}
    ],
}
MINI_PROGRAM = {
    "id": None,
    "name": "星河科技小程序",
    "number": None,
    "platform": "wechat",
    "platform_id": "wx5f2a7c9e1b3d4f60",
    "services": ["corporate"],
    "commercial": False,
    "preapprovals": [],
}
FILING_DATA = {
    "sponsor": SPONSOR,
    "websites": [WEBSITE],
    "apps": [APP],
    "mini_programs": [MINI_PROGRAM],
}
DRAFT = {
    "id": 42,
    "status": "draft",
    "number": None,
    "review_deadline": None,
    "conflicts": [],
    "application": None,
    **copy.deepcopy(FILING_DATA),
}
SUBMITTED_WEBSITE = {**WEBSITE, "id": 7}
SUBMITTED_APP = {**APP, "id": 8}
SUBMITTED_MINI_PROGRAM = {**MINI_PROGRAM, "id": 9}
PENDING = {
    **copy.deepcopy(DRAFT),
    "websites": [SUBMITTED_WEBSITE],
    "apps": [SUBMITTED_APP],
    "mini_programs": [SUBMITTED_MINI_PROGRAM],
    "status": "pending_review",
    "review_deadline": "2027-03-29",
    "application": {
        "kind": "new",
        "status": "pending_review",
        "provider": 3,
        "submitted_at": "2027-03-01T10:15:00+08:00",
        "verification_expires_at": None,
        "returns": [],
    },
}
APPROVED = {
    **copy.deepcopy(PENDING),
    "status": "approved",
    "review_deadline": None,
    "application": None,
    "number": "京ICP备2027000042号",
    "websites": [{**SUBMITTED_WEBSITE, "number": "京ICP备2027000042号-1"}],
    "apps": [{**SUBMITTED_APP, "number": "京ICP备2027000042号-1A"}],
    "mini_programs": [{**SUBMITTED_MINI_PROGRAM, "number": "京ICP备2027000042号-1X"}],
}
CONFLICTED = {
    **copy.deepcopy(PENDING),
    "conflicts": [{"field": "domain", "value": "xinghe-demo.cn", "other_filing": 17}],
}
QUEUE_ITEM = {**copy.deepcopy(PENDING), "kind": "new"}
FIRST_REVIEW_ITEM = {
    **copy.deepcopy(PENDING),
    "status": "provider_review",
    "review_deadline": None,
    "application": {**PENDING["application"], "status": "provider_review"},
    "kind": "new",
    "waiting_since": "2027-03-01T10:15:00+08:00",
    "provider_deadline": "2027-03-03",
    "working_days_left": 2,
    "overdue": False,
}
RETURNED = {
    **copy.deepcopy(PENDING),
    "status": "returned",
    "review_deadline": None,
    "application": {
        **PENDING["application"],
        "status": "returned",
        "returns": [
            {"field": "websites.0.homepage", "reason": "首页网址无法访问，请核实。"},
            {"field": "", "reason": "请补充网站负责人的联系方式后重新提交。"},
        ],
    },
}
FIELD_ERRORS = {
    "sponsor": {"id_number": ["统一社会信用代码的校验位不正确。"]},
    "websites": [
        {"domains": ["“www.xinghe-demo.cn”是子域名：请改为填写可注册域名 xinghe-demo.cn。"]}
    ],
}
WEBHOOK_NOTICE = {
    "id": "6f0c2a9e-3d41-4c55-9b0e-2f7a8c1d5e90",
    "event": "approved",
    "occurred_at": "2027-03-18T09:30:00+08:00",
    "filing": {
        "id": 42,
        "number": "京ICP备2027000042号",
        "status": "approved",
        "province": "11",
        "sponsor_name": "北京星河示例科技有限公司",
        "filed_by_provider": 3,
        "websites": [
            {
                "id": 7,
                "number": "京ICP备2027000042号-1",
                "name": "星河科技官网",
                "homepage": "http://www.xinghe-demo.cn/",
                "domains": ["xinghe-demo.cn"],
                "access_provider": 3,
                "accesses": [
                    {
                        "provider": 3,
                        "method": "cloud",
                        "server_location": "11",
                        "ips": ["120.79.1.10"],
                    }
                ],
            }
        ],
    },
}


def _cancellation(kind: str) -> dict:
    """An approved record with a cancellation (SPEC §12) of ``kind`` at the bureau."""
    return {
        **copy.deepcopy(APPROVED),
        "status": "amendment_pending",
        "review_deadline": "2027-04-15",
        "application": {
            "kind": kind,
            "status": "amendment_pending",
            "provider": None,
            "submitted_at": "2027-03-18T09:30:00+08:00",
            "verification_expires_at": None,
            "returns": [],
        },
    }


NEW_ACCESS = {
    **copy.deepcopy(APPROVED),
    "status": "provider_review",
    "application": {
        "kind": "new_access",
        "status": "provider_review",
        "provider": 5,
        "submitted_at": "2027-03-18T09:30:00+08:00",
        "verification_expires_at": None,
        "returns": [],
    },
}


def _page(*results: dict) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": list(results)}


# (method, path) → summary, request example, answer examples by status.
CALLS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/accounts/register/"): {
        "summary": "Register an owner account; sends an SMS code and an email code",
        "request": {
            "username": "xinghe2027",
            "password": "Xinghe-Demo-2027!",
            "email": "zhangwei@xinghe-demo.cn",
            "mobile": "13800138000",
        },
        "responses": {
            "201": {
                "id": 7,
                "username": "xinghe2027",
                "email": "zhangwei@xinghe-demo.cn",
                "mobile": "13800138000",
                "mobile_verified": False,
                "email_verified": False,
            }
        },
    },
    ("post", "/api/v1/accounts/verify/"): {
        "summary": "Confirm the mobile and the email with their codes",
        "request": {"username": "xinghe2027", "sms_code": "381946", "email_code": "502718"},
        "responses": {"200": {"username": "xinghe2027", "verified": True}},
    },
    ("post", "/api/v1/accounts/resend-code/"): {
        "summary": "Send a code again, or to a new email address (Q16)",
        "request": {"username": "xinghe2027", "channel": "email", "new_email": "zw@xinghe-demo.cn"},
        "responses": {"202": {"detail": "验证码已发送。"}},
    },
    ("post", "/api/v1/auth/token/"): {
        "summary": "Get an API token (staff give the current code of their authenticator app)",
        "request": {"username": "beijing", "password": "Demo-Beijing-2026", "otp": "482913"},
        "responses": {"200": {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}},
    },
    ("get", "/api/v1/filings/"): {"responses": {"200": _page(DRAFT)}},
    ("post", "/api/v1/filings/"): {
        "request": FILING_DATA,
        "responses": {"201": DRAFT, "400": FIELD_ERRORS},
    },
    ("get", "/api/v1/filings/{id}/"): {"responses": {"200": DRAFT}},
    ("put", "/api/v1/filings/{id}/"): {
        "request": FILING_DATA,
        "responses": {"200": DRAFT, "400": FIELD_ERRORS},
    },
    ("patch", "/api/v1/filings/{id}/"): {
        "request": {"sponsor": {"address": "北京市海淀区中关村大街27号"}},
        "responses": {"200": DRAFT},
    },
    ("post", "/api/v1/filings/{id}/documents/"): {"responses": {"201": {"id": 7}}},
    ("post", "/api/v1/filings/{id}/submit/"): {
        "responses": {"200": PENDING, "400": FIELD_ERRORS},
    },
    ("post", "/api/v1/filings/{id}/revocation/"): {
        "request": {"reason": "网站已停止运营，申请注销备案。"},
        "responses": {
            "200": {
                **APPROVED,
                "status": "revocation_pending",
                "review_deadline": "2027-04-15",
                "application": {
                    "kind": "revocation",
                    "status": "revocation_pending",
                    "provider": None,
                    "submitted_at": "2027-03-18T09:30:00+08:00",
                    "verification_expires_at": None,
                    "returns": [],
                },
            }
        },
    },
    ("post", "/api/v1/filings/{id}/withdraw/"): {
        "responses": {"200": APPROVED},
    },
    ("post", "/api/v1/filings/{id}/accesses/"): {
        "request": {
            "website": 7,
            "provider": 5,
            "method": "cloud",
            "server_location": "44",
            "ips": ["121.40.8.7"],
        },
        "responses": {"200": NEW_ACCESS, "400": {"ips": ["请至少填写一个服务器的 IP 地址。"]}},
    },
    ("post", "/api/v1/filings/{id}/accesses/cancel/"): {
        "request": {"website": 7, "provider": 3, "reason": "网站已迁移到其他接入服务提供商。"},
        "responses": {"200": _cancellation("cancel_access")},
    },
    ("post", "/api/v1/filings/{id}/websites/{website}/cancel/"): {
        "request": {"reason": "网站已停止运营。"},
        "responses": {
            "200": _cancellation("cancel_website"),
            "400": {
                "website": [
                    "这是本备案的最后一个网站，不能单独注销。请改为申请注销主体，"
                    "将主体与最后一个网站一并注销。"
                ]
            },
        },
    },
    ("post", "/api/v1/provider/accesses/"): {
        "summary": "Apply for this provider's access to an approved website (新增接入)",
        "request": {
            "website_number": "京ICP备2027000042号-1",
            "method": "cloud",
            "server_location": "44",
            "ips": ["121.40.8.7"],
        },
        "responses": {"200": NEW_ACCESS},
    },
    ("post", "/api/v1/provider/accesses/cancel/"): {
        "summary": "Withdraw this provider's access to a website (取消接入)",
        "request": {"website": 7, "reason": "客户已停止使用本公司服务器。"},
        "responses": {"200": _cancellation("cancel_access")},
    },
    ("post", "/api/v1/filings/{id}/verification/resend/"): {
        "responses": {
            "200": {
                **PENDING,
                "status": "verification",
                "review_deadline": None,
                "application": {
                    **PENDING["application"],
                    "status": "verification",
                    "verification_expires_at": "2027-03-02T10:20:00+08:00",
                },
            },
            "429": {"detail": "验证码发送过于频繁，请1分钟后再试。"},
        },
    },
    ("post", "/api/v1/verification/"): {
        "request": {"mobile": "13800138000", "code": "381946", "id_last6": "31002X"},
        "responses": {
            "200": {"status": "pending_review", "review_deadline": "2027-03-29"},
            "400": {"code": ["手机号码、验证码与证件号码后 6 位不匹配。"]},
            "429": {"detail": "您所在地址的尝试次数过多，请42分钟后再试。"},
        },
    },
    ("get", "/api/v1/review/queue/"): {
        "summary": "The open items of the caller's province, earliest deadline first",
        "responses": {"200": _page(QUEUE_ITEM)},
    },
    ("get", "/api/v1/review/filings/{id}/"): {
        "summary": "One filing of the caller's province, with its conflicts",
        "responses": {"200": CONFLICTED},
    },
    ("post", "/api/v1/review/filings/{id}/decision/"): {
        "summary": "Approve or reject (a rejection gives the reason, sent to the owner)",
        "request": {"action": "approve"},
        "responses": {"200": APPROVED},
    },
    ("post", "/api/v1/review/filings/{id}/recheck/"): {
        "summary": "Recompute the filing's conflicts (重新检测)",
        "responses": {"200": PENDING},
    },
    ("post", "/api/v1/review/filings/{id}/revoke/"): {
        "summary": "Revoke a filing on the bureau's own motion (the reason goes to the owner)",
        "request": {"reason": "经核查，该备案系冒用他人信息恶意抢注，予以注销。"},
        "responses": {"200": {**APPROVED, "status": "revoked"}},
    },
    ("post", "/api/v1/provider/imports/"): {
        "summary": "Import clients and their filings; one result per row",
        "request": {
            "rows": [
                {
                    "client": {
                        "username": "xinghe2027",
                        "email": "zhangwei@xinghe-demo.cn",
                        "mobile": "13800138000",
                    },
                    "filing": FILING_DATA,
                }
            ]
        },
        "responses": {
            "200": {
                "results": [
                    {
                        "row": 0,
                        "status": "created",
                        "username": "xinghe2027",
                        "initial_password": "Kq7-mX2p-R9vL",
                        "filing": 42,
                        "errors": {},
                    }
                ]
            }
        },
    },
    ("get", "/api/v1/provider/reviews/"): {
        "summary": "Applications waiting for this provider's first review (初审), oldest first",
        "responses": {"200": _page(FIRST_REVIEW_ITEM)},
    },
    ("post", "/api/v1/provider/reviews/{id}/decision/"): {
        "summary": "Pass the application on (to the SMS verification or the bureau) or return it",
        "request": {
            "action": "return",
            "reason": "请补充网站负责人的联系方式后重新提交。",
            "returns": [{"field": "websites.0.homepage", "reason": "首页网址无法访问，请核实。"}],
        },
        "responses": {"200": RETURNED},
    },
    ("get", "/api/v1/provider/domains/{domain}/"): {
        "summary": "Is this domain filed? (before serving it, Q7)",
        "responses": {
            "200": {
                "domain": "xinghe-demo.cn",
                "filed": True,
                "number": "京ICP备2027000042号-1",
                "status": "approved",
                "access": True,
            }
        },
    },
    ("post", "/api/v1/provider/domains/check/"): {
        "summary": "Are these domains filed? Answers in the order asked",
        "request": {"domains": ["xinghe-demo.cn", "weibei-demo.cn"]},
        "responses": {
            "200": {
                "results": [
                    {
                        "domain": "xinghe-demo.cn",
                        "filed": True,
                        "number": "京ICP备2027000042号-1",
                        "status": "approved",
                        "access": True,
                    },
                    {
                        "domain": "weibei-demo.cn",
                        "filed": False,
                        "number": None,
                        "status": None,
                        "access": False,
                    },
                ]
            }
        },
    },
    ("get", "/api/v1/public/filings/"): {
        "summary": "Is it filed? Search by domain, filing number or sponsor name",
        "responses": {
            "200": _page(
                {
                    "number": "京ICP备2027000042号",
                    "sponsor_name": "北京星河示例科技有限公司",
                    "sponsor_nature": "enterprise",
                    "website_name": "星河科技官网",
                    "website_number": "京ICP备2027000042号-1",
                    "homepage": "http://www.xinghe-demo.cn/",
                    "domains": ["xinghe-demo.cn"],
                    "approved_at": "2027-03-18",
                }
            )
        },
    },
    ("post", "/api/v1/public/certificates/verify/"): {
        "responses": {
            "200": {
                "status": "valid",
                "number": "京ICP备2027000042号",
                "domains": ["xinghe-demo.cn"],
            }
        },
    },
}

WEBHOOK_SCHEMA = {
    "type": "object",
    "description": (
        "The body of a webhook notice POSTed to the provider's webhook URL when a filing it "
        "filed, or names as an access provider, is approved, amended or revoked. Headers: "
        "X-Beian-Event (the event), X-Beian-Delivery (the body's id, the same on every retry), "
        "X-Beian-Timestamp (Unix seconds of this attempt), X-Beian-Signature (hex "
        "HMAC-SHA256 with the webhook secret as key over `{timestamp}.` followed by the raw "
        "body)."
    ),
    "required": ["id", "event", "occurred_at", "filing"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "event": {"type": "string", "enum": ["approved", "amended", "revoked"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "filing": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string", "nullable": True},
                "status": {"type": "string"},
                "province": {"type": "string"},
                "sponsor_name": {"type": "string"},
                "filed_by_provider": {"type": "integer", "nullable": True},
                "websites": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "number": {"type": "string", "nullable": True},
                            "name": {"type": "string"},
                            "homepage": {"type": "string"},
                            "domains": {"type": "array", "items": {"type": "string"}},
                            "access_provider": {"type": "integer", "nullable": True},
                            "accesses": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                },
            },
        },
    },
    "example": WEBHOOK_NOTICE,
}

DESCRIPTION = """网站备案系统 JSON API (SPEC §10). Token authentication: `Authorization: Token …`
(`POST /api/v1/auth/token/`); errors are 4xx with DRF's field-error body.

## Webhook notices to access providers

When a filing filed by a provider, or naming it as a website's access provider, is approved,
has an amendment approved, or is revoked, the portal POSTs a JSON notice (schema
`WebhookNotice` below) to the webhook URL set in the provider console:

```json
{"id": "6f0c2a9e-3d41-4c55-9b0e-2f7a8c1d5e90", "event": "approved",
 "occurred_at": "2027-03-18T09:30:00+08:00",
 "filing": {"id": 42, "number": "京ICP备2027000042号", "status": "approved", "province": "11",
            "sponsor_name": "北京星河示例科技有限公司", "filed_by_provider": 3,
            "websites": [{"number": "京ICP备2027000042号-1", "name": "星河科技官网",
                          "homepage": "http://www.xinghe-demo.cn/",
                          "domains": ["xinghe-demo.cn"], "access_provider": 3,
                          "accesses": [{"provider": 3, "method": "cloud",
                                        "server_location": "11", "ips": ["120.79.1.10"]}]}]}}
```

| header | value |
| --- | --- |
| `X-Beian-Event` | `approved`, `amended` or `revoked` |
| `X-Beian-Delivery` | the notice's `id`; the same on every retry (drop one already processed) |
| `X-Beian-Timestamp` | Unix seconds when this attempt was sent |
| `X-Beian-Signature` | hex HMAC-SHA256, key = the webhook secret, message = `{timestamp}.` + raw body |

Verify the signature over the raw body bytes before parsing, and refuse timestamps older than
five minutes:

```python
import hashlib, hmac, time

def verify(secret: str, headers, body: bytes, window: int = 300) -> bool:
    timestamp = headers.get("X-Beian-Timestamp", "")
    signature = headers.get("X-Beian-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > window:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
```

Answer 2xx once the notice is stored; anything else is retried with growing delays (8
attempts), then shown as failed in the console, where it can be sent again.
"""


def _example(value: Any, summary: str) -> dict:
    return {"example": {"summary": summary, "value": value}}


def document(result: dict, generator=None, request=None, public=None) -> dict:
    """drf-spectacular post-processing hook: summaries, examples and the webhook component."""
    for (method, path), doc in CALLS.items():
        operation = result.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        if doc.get("summary") and not operation.get("summary"):
            operation["summary"] = doc["summary"]
        if "request" in doc:
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                content["application/json"]["examples"] = _example(
                    doc["request"], "example request"
                )
        for status, value in doc.get("responses", {}).items():
            response = operation.get("responses", {}).get(status)
            if response is None:
                continue
            media = response.get("content", {}).get("application/json")
            if media is not None:
                media["examples"] = _example(value, "example answer")
    result.setdefault("components", {}).setdefault("schemas", {})["WebhookNotice"] = WEBHOOK_SCHEMA
    return result
