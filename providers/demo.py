"""Demo data for ``seed_demo``: an access provider, its staff login and three imported clients;
an app store (a distribution platform, SPEC §13) and its staff login.

The clients come in through the same import as real ones, so the Beijing queue shows filings
submitted by a provider, and each client's first sign-in goes through the codes and a new
password (Q22). Re-running changes nothing: the rows answer "exists".
"""

from __future__ import annotations

from accounts.models import AccessProvider, User
from accounts.services import staff_create
from beian.models import Province

from .import_jobs import import_rows
from .services import set_initial_password

PROVIDER_NAME = "示例云计算有限公司"
STAFF_USERNAME = "cloud"
STAFF_PASSWORD = "Demo-Provider-2026"
# Imported clients keep a known initial password in the demo, so the first sign-in can be tried.
CLIENT_PASSWORD = "Demo-Initial-2026"
STORE_NAME = "示例应用市场"
STORE_STAFF_USERNAME = "appstore"
STORE_STAFF_PASSWORD = "Demo-Store-2026"
CLIENTS = [
    ("demo-client1", "北京星河示例科技有限公司", "xinghe-demo.cn", "13700100001"),
    ("demo-client2", "北京青松示例网络有限公司", "qingsong-demo.cn", "13700100002"),
    ("demo-client3", "北京白鹭示例传媒有限公司", "bailu-demo.cn", "13700100003"),
]


def _client_row(username: str, sponsor: str, domain: str, mobile: str) -> dict:
    return {
        "client": {
            "username": username,
            "email": f"{username}@demo.beian.example.cn",
            "mobile": mobile,
        },
        "filing": {
            "sponsor": {
                "nature": "enterprise",
                "name": sponsor,
                "id_type": "uscc",
                "id_number": "91350100M000100Y43",
                "province": "11",
                "address": "北京市朝阳区建国路88号",
                "principal": {
                    "name": "赵六",
                    "id_type": "resident_id",
                    "id_number": "11010519491231002X",
                    "mobile": mobile,
                    "email": f"{username}@demo.beian.example.cn",
                },
            },
            "websites": [
                {
                    "name": f"{sponsor}官网",
                    "homepage": f"http://www.{domain}/",
                    "domains": [domain],
                    "ips": ["120.79.1.10"],
                    "services": ["corporate"],
                    "commercial": False,
                    "preapprovals": [],
                    "server_location": "11",
                }
            ],
        },
    }


def seed(out) -> list[dict]:
    provider = AccessProvider.objects.filter(name=PROVIDER_NAME).first()
    if provider is None:
        provider = AccessProvider.objects.create(
            name=PROVIDER_NAME,
            licence_number="B1-20269999",
            contact_name="钱七",
            email="icp@cloud-demo.example.cn",
            phone="010-88886666",
        )
        provider.provinces.set(Province.objects.filter(code__in=["11", "31", "44"]))
    staff = User.objects.filter(username=STAFF_USERNAME).first()
    if staff is None:
        staff, _device = staff_create(
            username=STAFF_USERNAME,
            role=User.Role.PROVIDER,
            email="ops@cloud-demo.example.cn",
            mobile="13700000001",
            password=STAFF_PASSWORD,
            provider=provider,
        )
    results = import_rows(
        provider=provider, by=staff, rows=[_client_row(*client) for client in CLIENTS]
    )
    for result in results:
        if result.status == "error":
            out.write(f"providers demo: client row {result.row} not imported: {result.errors}\n")
    logins = [
        {
            "role": "provider",
            "username": STAFF_USERNAME,
            "password": STAFF_PASSWORD,
            "note": f"({PROVIDER_NAME})",
        },
        _store(),
    ]
    for client in User.objects.filter(
        imported_by=provider, username__in=[c[0] for c in CLIENTS], password_is_initial=True
    ):
        set_initial_password(client, CLIENT_PASSWORD)
        client.save(update_fields=["password", "password_is_initial"])
        logins.append(
            {
                "role": "owner",
                "username": client.username,
                "password": CLIENT_PASSWORD,
                "note": "(imported; first sign-in asks for the SMS and email codes)",
            }
        )
    return logins


def _store() -> dict:
    """The demo's app store: a distribution platform that is no access provider, with a staff
    login that checks apps (``POST /api/v1/provider/apps/check/``)."""
    store, _created = AccessProvider.objects.get_or_create(
        name=STORE_NAME,
        defaults={
            "licence_number": "B1-20269998",
            "contact_name": "孙八",
            "email": "icp@store-demo.example.cn",
            "phone": "010-88887777",
            "is_access_provider": False,
            "is_distribution_platform": True,
        },
    )
    if not User.objects.filter(username=STORE_STAFF_USERNAME).exists():
        staff_create(
            username=STORE_STAFF_USERNAME,
            role=User.Role.PROVIDER,
            email="ops@store-demo.example.cn",
            mobile="13700000002",
            password=STORE_STAFF_PASSWORD,
            provider=store,
        )
    return {
        "role": "provider",
        "username": STORE_STAFF_USERNAME,
        "password": STORE_STAFF_PASSWORD,
        "note": f"({STORE_NAME}, distribution platform)",
    }
